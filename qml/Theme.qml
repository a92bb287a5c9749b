// SPDX-License-Identifier: MIT
// One theme for every view: spacing, type scale and every colour the app paints, in a light
// and a dark variant. `mode` is the user's choice (Preferences.theme): "light", "dark" or
// "system", which follows the system's palette (Qt 6.4 has no colour scheme API: a dark
// window colour means dark mode). Main.qml gives the controls a palette made of these colours,
// so no style colour is left over. Text colours keep a contrast of at least 4.5:1 with
// background, surface, card, hover and selection, in both variants.
pragma Singleton
import QtQuick

QtObject {
    /// "system", "light" or "dark".
    property string mode: "system"
    readonly property SystemPalette systemPalette: SystemPalette { colorGroup: SystemPalette.Active }
    readonly property bool systemDark: systemPalette.window.hslLightness < 0.5
    readonly property bool dark: mode === "dark" || (mode !== "light" && systemDark)

    // Surfaces, from the back to the front.
    readonly property color background: dark ? "#16181c" : "#f3f4f6"
    readonly property color surface: dark ? "#1e2126" : "#ffffff" // header, status bar, panes
    readonly property color card: dark ? "#23272d" : "#ffffff" // list rows, fields
    readonly property color control: dark ? "#2c3138" : "#f7f8fa" // buttons
    readonly property color hover: dark ? "#2b3037" : "#eceef2"
    readonly property color selection: dark ? "#233550" : "#dfe9f8" // the picked row
    readonly property color separator: dark ? "#3a3f47" : "#d5d9df"

    // Text and signals.
    readonly property color text: dark ? "#e7e9ec" : "#1b1f24"
    readonly property color mutedText: dark ? "#a9b0bb" : "#565e6b"
    readonly property color accent: dark ? "#8ab4f8" : "#1a5fb4"
    readonly property color accentText: dark ? "#0d1b2e" : "#ffffff" // on accent
    readonly property color focusRing: dark ? "#a8c7fa" : "#1a5fb4"
    readonly property color ok: dark ? "#7bd88f" : "#1a7431"
    readonly property color warning: dark ? "#f2c46d" : "#8a5300"
    readonly property color error: dark ? "#ff8a80" : "#b3261e"
    readonly property color link: accent
    // The bevels of the Fusion style (light, midlight, mid, dark, shadow).
    readonly property color bevelLight: dark ? "#3b414a" : "#ffffff"
    readonly property color bevelMidlight: dark ? "#30353d" : "#e8eaee"
    readonly property color bevelDark: dark ? "#101215" : "#9aa1ab"
    readonly property color bevelShadow: dark ? "#000000" : "#6b7280"

    // Avatars: a colour per person (picked by a hash of the id), with accentText-like white or
    // near-black initials that keep 4.5:1.
    readonly property var avatarColors: dark ? ["#8ab4f8", "#81c995", "#fdd663", "#f28b82", "#c58af9", "#78d9ec"]
                                             : ["#1a5fb4", "#1a7431", "#8a5300", "#b3261e", "#6f3fb0", "#0b6e7e"]
    readonly property color avatarText: dark ? "#111418" : "#ffffff"
    function avatarColor(key) {
        let h = 0
        for (let i = 0; i < key.length; ++i)
            h = (h * 31 + key.charCodeAt(i)) % 1000003
        return avatarColors[h % avatarColors.length]
    }

    readonly property int spacing: 8
    readonly property int padding: 12
    readonly property int radius: 6
    readonly property real smallFont: 0.85
    readonly property real titleFont: 1.2
    readonly property real headlineFont: 1.4
}
