// SPDX-License-Identifier: MIT
// One theme for every view. It follows the system's light or dark mode through the palette
// (Qt 6.4 has no color scheme API): a dark window colour means dark mode.
pragma Singleton
import QtQuick

QtObject {
    readonly property SystemPalette palette: SystemPalette { colorGroup: SystemPalette.Active }
    readonly property bool dark: palette.window.hslLightness < 0.5

    readonly property color background: palette.window
    readonly property color surface: dark ? Qt.lighter(palette.window, 1.3) : Qt.darker(palette.window, 1.03)
    readonly property color card: dark ? Qt.lighter(palette.base, 1.15) : palette.base
    readonly property color text: palette.windowText
    readonly property color mutedText: Qt.rgba(text.r, text.g, text.b, 0.65)
    readonly property color accent: palette.highlight
    readonly property color accentText: palette.highlightedText
    readonly property color ok: dark ? "#7bd88f" : "#1e7d32"
    readonly property color warning: dark ? "#f2c46d" : "#9a5b00"
    readonly property color error: dark ? "#ff8a80" : "#c62828"
    readonly property color separator: Qt.rgba(text.r, text.g, text.b, 0.15)

    readonly property int spacing: 8
    readonly property int padding: 12
    readonly property int radius: 6
    readonly property real smallFont: 0.85
}
