// SPDX-License-Identifier: MIT
// The sign-in screen against the real server: a wrong password shows the error and stays
// signed out; the right one (typed, Enter) signs in; keyboard focus moves field to field.
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
        tryCompare(view.session, "connectionState", Session.Connected, 10000)
        view.session.signOut()
        compare(view.session.status, Session.SignedOut)
    }

    function test_emptyFieldsDisableSignIn() {
        const view = createView()
        typeInto(view, "urlField", DesktopTestServer.url)
        typeInto(view, "userField", "")
        compare(findChild(view, "signInButton").enabled, false)
    }
}
