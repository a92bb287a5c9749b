// SPDX-License-Identifier: MIT
// The window: the sign-in screen until a session is signed in, then the dashboard. Its
// geometry and the last view are remembered (Preferences).
import QtQuick
import QtQuick.Controls
import Heliograph.Desktop

ApplicationWindow {
    id: window
    required property Session session
    required property ProfileModel profiles
    required property Preferences preferences
    /// The dashboard's view: "notifications", "presence", "documents" or "admin".
    property alias currentView: dashboard.currentView
    readonly property bool signedIn: session.status === Session.SignedIn

    width: preferences.windowGeometry.width > 0 ? preferences.windowGeometry.width : 1000
    height: preferences.windowGeometry.height > 0 ? preferences.windowGeometry.height : 680
    minimumWidth: 640
    minimumHeight: 420
    visible: true
    title: signedIn ? qsTr("Heliograph — %1 (%2)").arg(session.userName).arg(session.tenant) : qsTr("Sign in")
    color: Theme.background

    // Every control draws with the theme's colours (the style's own palette never shows).
    palette.window: Theme.background
    palette.windowText: Theme.text
    palette.base: Theme.card
    palette.alternateBase: Theme.hover
    palette.text: Theme.text
    palette.button: Theme.control
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
    palette.placeholderText: Theme.mutedText
    palette.toolTipBase: Theme.surface
    palette.toolTipText: Theme.text
    palette.brightText: Theme.accentText
    palette.link: Theme.link
    palette.linkVisited: Theme.link
    palette.light: Theme.bevelLight
    palette.midlight: Theme.bevelMidlight
    palette.mid: Theme.separator
    palette.dark: Theme.bevelDark
    palette.shadow: Theme.bevelShadow
    palette.disabled.windowText: Theme.mutedText
    palette.disabled.text: Theme.mutedText
    palette.disabled.buttonText: Theme.mutedText

    // The theme the user chose (Light, Dark or System), kept in the preferences.
    Binding { target: Theme; property: "mode"; value: window.preferences.theme }

    Component.onCompleted: {
        const g = preferences.windowGeometry
        if (g.width > 0) {
            x = g.x
            y = g.y
        }
        if (preferences.windowMaximized)
            showMaximized()
    }
    onClosing: {
        preferences.windowMaximized = visibility === Window.Maximized
        if (visibility === Window.Windowed)
            preferences.windowGeometry = Qt.rect(x, y, width, height)
    }

    Connections {
        target: window.session
        function onStatusChanged() {
            if (window.session.status === Session.SignedIn)
                window.profiles.use(window.session.serverUrl, window.session.userId)
        }
    }

    SignInView {
        anchors.fill: parent
        visible: !window.signedIn
        session: window.session
        profiles: window.profiles
    }

    DashboardView {
        id: dashboard
        objectName: "dashboard"
        anchors.fill: parent
        visible: window.signedIn
        session: window.session
        currentView: window.preferences.lastView
        onCurrentViewChanged: window.preferences.lastView = currentView
        themeKept: true
        onThemeChosen: mode => window.preferences.theme = mode
    }
}
