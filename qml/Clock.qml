// SPDX-License-Identifier: MIT
// Times as people read them, the same in every view: "just now", "5 min ago", today's time,
// "Yesterday 14:05", an older date; the full date for tooltips; a label per day for the lists'
// day separators. Everything goes through the locale (Qt.locale()) and qsTr with %n.
// `now` ticks every 30 seconds, so bindings that pass it along stay current.
pragma Singleton
import QtQuick

QtObject {
    id: clock
    property date now: new Date()
    readonly property Timer ticker: Timer {
        interval: 30000
        running: true
        repeat: true
        onTriggered: clock.now = new Date()
    }

    function sameDay(a, b) {
        return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth()
                && a.getDate() === b.getDate()
    }
    function yesterdayOf(d) {
        const y = new Date(d.getTime())
        y.setDate(y.getDate() - 1)
        return y
    }

    /// A short time relative to `reference` (default: now).
    function relative(date, reference) {
        if (!date || isNaN(date.getTime()))
            return ""
        const ref = reference || now
        const seconds = Math.floor((ref.getTime() - date.getTime()) / 1000)
        if (seconds < 60)
            return qsTr("just now") // also a clock a little ahead of ours
        if (seconds < 3600)
            return qsTr("%n min ago", "", Math.floor(seconds / 60))
        const time = date.toLocaleTimeString(Qt.locale(), Locale.ShortFormat)
        if (sameDay(date, ref))
            return time
        if (sameDay(date, yesterdayOf(ref)))
            return qsTr("yesterday %1").arg(time)
        return date.toLocaleDateString(Qt.locale(), Locale.ShortFormat) + " " + time
    }

    /// The full date and time, for a tooltip.
    function full(date) {
        if (!date || isNaN(date.getTime()))
            return ""
        return date.toLocaleString(Qt.locale(), Locale.LongFormat)
    }

    /// The heading of a day in a list: "Today", "Yesterday" or the date.
    function dayLabel(date, reference) {
        if (!date || isNaN(date.getTime()))
            return ""
        const ref = reference || now
        if (sameDay(date, ref))
            return qsTr("Today")
        if (sameDay(date, yesterdayOf(ref)))
            return qsTr("Yesterday")
        return date.toLocaleDateString(Qt.locale(), Locale.LongFormat)
    }
}
