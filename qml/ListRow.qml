// SPDX-License-Identifier: MIT
// A row of a list, the same in every view. The picked row (`selected`) gets a light tint and
// an accent bar, never the style's solid highlight, so that the row's own colours (the
// unread dot, an avatar, accent text) stay visible and readable on it. While the list has the
// keyboard focus, its current row has a focus ring.
import QtQuick
import QtQuick.Controls

ItemDelegate {
    id: row
    /// The row the user picked; by default the list's current item.
    property bool selected: ListView.isCurrentItem
    /// The list has the keyboard focus and this is its current row.
    property bool focusRing: selected && ListView.view !== null && ListView.view.activeFocus
    highlighted: false
    hoverEnabled: true
    palette.windowText: Theme.text
    palette.text: Theme.text
    background: Rectangle {
        objectName: "rowBackground"
        implicitHeight: 36
        color: row.selected ? Theme.selection : row.hovered ? Theme.hover : Theme.card
        radius: 3
        border.width: row.focusRing || row.visualFocus ? 2 : 0
        border.color: Theme.focusRing
        Rectangle {
            visible: row.selected
            width: 3
            height: parent.height
            radius: 1.5
            color: Theme.accent
        }
    }
}
