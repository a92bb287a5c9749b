// SPDX-License-Identifier: MIT
// The root of a screen (the sign-in screen, the dashboard): it paints the theme's background
// and gives every control under it a palette made of the theme's colours, so no colour of the
// style (or of the system) is left over, whichever window the screen is shown in.
import QtQuick
import QtQuick.Controls

Control {
    padding: 0
    background: Rectangle { color: Theme.background }

    palette.window: Theme.background
    palette.windowText: Theme.text
    palette.base: Theme.card
    palette.alternateBase: Theme.hover
    palette.text: Theme.text
    palette.button: Theme.control
    palette.buttonText: Theme.text
    palette.highlight: Theme.accent
    palette.highlightedText: Theme.accentText
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
}
