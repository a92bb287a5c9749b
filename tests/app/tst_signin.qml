// SPDX-License-Identifier: MIT
// The sign-in screen against the real server: a wrong password shows the error and stays
// signed out; the right one (typed, Enter) signs in; keyboard focus moves field to field;
// forgiving input (host:port, a pasted hub URL), a server that is not Heliograph, one that
// does not answer (timeout, Cancel).
import QtQuick
import QtTest
import Heliograph.Desktop
import HeliographDesktopTest

TestCase {
    id: testCase
    name: "SignIn"
    when: windowShown
    width: 800
    height: 600

    // The view before its session (destroyed first); in the window's content item, since
    // TestCase itself is not visible.
    Component {
        id: holderComponent
        Item {
            anchors.fill: parent
            property alias view: signIn
            SignInView { id: signIn; anchors.fill: parent; session: session; profiles: profiles }
            Session { id: session }
            ProfileModel { id: profiles }
        }
    }

    function createView() {
        const holder = createTemporaryObject(holderComponent, testCase.Window.window.contentItem)
        verify(holder)
        return holder.view
    }

    function typeInto(view, name, text) {
        const field = findChild(view, name)
        verify(field, name)
        field.forceActiveFocus()
        field.selectAll()
        keySequence("Backspace")
        for (let i = 0; i < text.length; ++i)
            keyClick(text[i])
        return field
    }

    function test_wrongPasswordShowsTheError() {
        const view = createView()
        typeInto(view, "urlField", DesktopTestServer.url)
        typeInto(view, "userField", "carol")
        typeInto(view, "passwordField", "not-her-password")
        compare(findChild(view, "signInButton").enabled, true)
        keyClick(Qt.Key_Return)
        compare(view.session.status, Session.SigningIn)
        tryCompare(view.session, "status", Session.SignedOut, 10000)
        const error = findChild(view, "signInError")
        compare(error.visible, true)
        compare(error.text, "Wrong username or password.")
        compare(findChild(view, "passwordField").text, "") // never kept
    }

    function test_signInWithTheKeyboard() {
        const view = createView()
        typeInto(view, "urlField", DesktopTestServer.url)
        keyClick(Qt.Key_Tab) // to the username
        verify(findChild(view, "userField").activeFocus)
        typeInto(view, "userField", "alice")
        keyClick(Qt.Key_Return) // to the password
        verify(findChild(view, "passwordField").activeFocus)
        typeInto(view, "passwordField", "demo-alice-pass")
        keyClick(Qt.Key_Return)
        tryCompare(view.session, "status", Session.SignedIn, 10000)
        compare(view.session.userId, "alice")
        compare(view.session.canAdminister, true)
        tryCompare(view.session.connection, "state", HubConnection.State.Connected, 10000)
        view.session.signOut()
        compare(view.session.status, Session.SignedOut)
    }

    // Issue 14, forgiving sign-in: host:port (http for a loopback host) and a pasted hub URL.
    function test_hostPortAndPastedHubUrl() {
        const view = createView()
        typeInto(view, "urlField", "127.0.0.1:" + DesktopTestServer.port() + "/hubs/notifications?x=1")
        typeInto(view, "userField", "alice")
        typeInto(view, "passwordField", "demo-alice-pass")
        keyClick(Qt.Key_Return)
        tryCompare(view.session, "status", Session.SignedIn, 10000)
        compare(view.session.serverUrl.toString(), DesktopTestServer.url)
        compare(findChild(view, "passwordField").text, "") // not kept once signed in
        view.session.signOut()
    }

    function test_serverUrlFromText_data() {
        return [
            { tag: "loopback host:port", text: " 127.0.0.1:5000 ", url: "http://127.0.0.1:5000" },
            { tag: "localhost", text: "localhost:5000", url: "http://localhost:5000" },
            { tag: "IPv6 loopback", text: "[::1]:5000", url: "http://[::1]:5000" },
            { tag: "other host: https", text: "heliograph.example.com", url: "https://heliograph.example.com" },
            { tag: "LAN address: https", text: "192.168.1.20:5000", url: "https://192.168.1.20:5000" },
            { tag: "explicit http kept", text: "http://example.com:8080/", url: "http://example.com:8080" },
            { tag: "pasted hub URL", text: "https://example.com/base/hubs/notifications?id=1#x", url: "https://example.com/base" },
            { tag: "pasted sign-in URL", text: "http://127.0.0.1:5000/auth/login", url: "http://127.0.0.1:5000" },
            { tag: "not http", text: "ftp://example.com", url: "" },
            { tag: "empty", text: "  ", url: "" },
        ]
    }
    function test_serverUrlFromText(data) {
        const view = createView()
        compare(view.session.serverUrlFromText(data.text).toString(), data.url)
    }

    // A server that is not Heliograph (here: a path of the real one with nothing behind it)
    // is named as such, not as "404"; the password stays for the next try.
    function test_notAHeliographServerKeepsThePassword() {
        const view = createView()
        typeInto(view, "urlField", DesktopTestServer.url + "/elsewhere")
        typeInto(view, "userField", "alice")
        typeInto(view, "passwordField", "demo-alice-pass")
        keyClick(Qt.Key_Return)
        tryCompare(view.session, "status", Session.SignedOut, 10000)
        const error = findChild(view, "signInError")
        compare(error.text, DesktopTestServer.url + "/elsewhere is not a Heliograph server (it has no sign-in). Check the address.")
        verify(error.text.indexOf("404") < 0)
        compare(findChild(view, "passwordField").text, "demo-alice-pass")
        // Fixed address, same password: signed in.
        typeInto(view, "urlField", DesktopTestServer.url)
        mouseClick(findChild(view, "signInButton"))
        tryCompare(view.session, "status", Session.SignedIn, 10000)
        view.session.signOut()
    }

    // A server that does not answer: "did not answer in time" (not "Operation canceled"),
    // and Cancel (button or Escape) stops waiting at once, with nothing lost.
    function test_timeoutAndCancel() {
        const view = createView()
        view.session.auth.requestTimeout = 700
        typeInto(view, "urlField", DesktopTestServer.silentUrl)
        typeInto(view, "userField", "alice")
        typeInto(view, "passwordField", "demo-alice-pass")
        keyClick(Qt.Key_Return)
        compare(view.session.status, Session.SigningIn)
        const cancel = findChild(view, "cancelSignInButton")
        compare(cancel.visible, true)
        tryCompare(view.session, "status", Session.SignedOut, 10000)
        const error = findChild(view, "signInError")
        compare(error.text, DesktopTestServer.silentUrl + " did not answer in time. Check the address, or try again.")
        compare(findChild(view, "passwordField").text, "demo-alice-pass")
        compare(cancel.visible, false)

        view.session.auth.requestTimeout = 60000
        mouseClick(findChild(view, "signInButton"))
        compare(view.session.status, Session.SigningIn)
        compare(error.visible, false)
        mouseClick(cancel)
        compare(view.session.status, Session.SignedOut)
        compare(error.visible, false)
        compare(findChild(view, "passwordField").text, "demo-alice-pass")
        mouseClick(findChild(view, "signInButton"))
        compare(view.session.status, Session.SigningIn)
        keyClick(Qt.Key_Escape)
        compare(view.session.status, Session.SignedOut)
    }

    function test_placeholdersSayWhatToEnter() {
        const view = createView()
        verify(findChild(view, "urlField").placeholderText.indexOf("127.0.0.1:5000") >= 0)
        verify(findChild(view, "userField").placeholderText !== "")
        verify(findChild(view, "passwordField").placeholderText !== "")
    }

    function test_emptyFieldsDisableSignIn() {
        const view = createView()
        typeInto(view, "urlField", DesktopTestServer.url)
        typeInto(view, "userField", "")
        compare(findChild(view, "signInButton").enabled, false)
    }
}
