<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>AdminConsoleView</name>
    <message>
        <source>%1 d %2 h</source>
        <translation>%1 T %2 h</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>The admin console is not connected.</source>
        <translation>Die Administrationskonsole ist nicht verbunden.</translation>
    </message>
    <message>
        <source>Reconnect</source>
        <translation>Neu verbinden</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Verbindung wird wiederhergestellt…</translation>
    </message>
    <message>
        <source>Waiting for the first snapshot…</source>
        <translation>Warten auf den ersten Stand…</translation>
    </message>
    <message>
        <source>Server %1 · up %2 · %3 connections · %4 MiB · storage %5%6</source>
        <translation>Server %1 · läuft seit %2 · %3 Verbindungen · %4 MiB · Speicher %5%6</translation>
    </message>
    <message>
        <source>ok</source>
        <translation>ok</translation>
    </message>
    <message>
        <source>FAILING</source>
        <translation>FEHLERHAFT</translation>
    </message>
    <message>
        <source> · reconnecting</source>
        <translation> · Verbindung wird wiederhergestellt</translation>
    </message>
    <message>
        <source>Tenant</source>
        <translation>Mandant</translation>
    </message>
    <message>
        <source>Tenant %1</source>
        <translation>Mandant %1</translation>
    </message>
    <message>
        <source>No tenant</source>
        <translation>Kein Mandant</translation>
    </message>
    <message>
        <source>Broadcast alert…</source>
        <translation>Warnung an alle…</translation>
    </message>
    <message>
        <source>Connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>Online users</source>
        <translation>Angemeldete Benutzer</translation>
    </message>
    <message>
        <source>In /s</source>
        <translation>Ein /s</translation>
    </message>
    <message>
        <source>Out /s</source>
        <translation>Aus /s</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>Dokumente</translation>
    </message>
    <message>
        <source>Tenant %1, %2 connections</source>
        <translation>Mandant %1, %2 Verbindungen</translation>
    </message>
    <message>
        <source>No tenant has connections right now.</source>
        <translation>Zurzeit hat kein Mandant Verbindungen.</translation>
    </message>
    <message>
        <source>Messages per second · %1</source>
        <translation>Nachrichten pro Sekunde · %1</translation>
    </message>
    <message>
        <source>all tenants</source>
        <translation>alle Mandanten</translation>
    </message>
    <message>
        <source>in</source>
        <translation>ein</translation>
    </message>
    <message>
        <source>out</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Connections and users · %1</source>
        <translation>Verbindungen und Benutzer · %1</translation>
    </message>
    <message>
        <source>connections</source>
        <translation>Verbindungen</translation>
    </message>
    <message>
        <source>users</source>
        <translation>Benutzer</translation>
    </message>
    <message>
        <source>Connections (%1 users, %2)</source>
        <translation>Verbindungen (%1 Benutzer, %2)</translation>
    </message>
    <message>
        <source>Groups (%1 · %2 documents)</source>
        <translation>Gruppen (%1 · %2 Dokumente)</translation>
    </message>
    <message>
        <source>Events</source>
        <translation>Ereignisse</translation>
    </message>
    <message>
        <source>Audit log (%1)</source>
        <translation>Prüfprotokoll (%1)</translation>
    </message>
    <message>
        <source>Connection %1 of %2</source>
        <translation>Verbindung %1 von %2</translation>
    </message>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>unknown client</source>
        <translation>unbekannter Client</translation>
    </message>
    <message>
        <source>%1 · %2 · since %3 · from %4</source>
        <translation>%1 · %2 · seit %3 · von %4</translation>
    </message>
    <message>
        <source>Notify…</source>
        <translation>Benachrichtigen…</translation>
    </message>
    <message>
        <source>Disconnect…</source>
        <translation>Trennen…</translation>
    </message>
    <message>
        <source>Choose a tenant.</source>
        <translation>Wählen Sie einen Mandanten.</translation>
    </message>
    <message>
        <source>Nobody is connected to %1.</source>
        <translation>Niemand ist mit %1 verbunden.</translation>
    </message>
    <message numerus="yes">
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n Mitglied</numerusform>
            <numerusform>%n Mitglieder</numerusform>
        </translation>
    </message>
    <message>
        <source>No groups in this tenant.</source>
        <translation>Dieser Mandant hat keine Gruppen.</translation>
    </message>
    <message>
        <source>No events since the console connected.</source>
        <translation>Keine Ereignisse, seit die Konsole verbunden ist.</translation>
    </message>
    <message>
        <source>Nothing in the audit log of %1 for the last 24 hours.</source>
        <translation>Keine Einträge im Prüfprotokoll von %1 in den letzten 24 Stunden.</translation>
    </message>
    <message>
        <source>Broadcast an alert to %1</source>
        <translation>Warnung an alle von %1 senden</translation>
    </message>
    <message>
        <source>Broadcast</source>
        <translation>An alle senden</translation>
    </message>
    <message>
        <source>Every connected user of %1 sees this alert at once. The action is written to the tenant&apos;s audit log.</source>
        <translation>Alle verbundenen Benutzer von %1 sehen diese Warnung sofort. Die Aktion wird im Prüfprotokoll des Mandanten vermerkt.</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <source>Send a notification to %1</source>
        <translation>Benachrichtigung an %1 senden</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titel</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>Text</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>Stored and delivered like any notification (replayed if %1 is offline); written to the audit log.</source>
        <translation>Wird wie jede Benachrichtigung gespeichert und zugestellt (nachgeliefert, falls %1 offline ist) und im Prüfprotokoll vermerkt.</translation>
    </message>
    <message>
        <source>Disconnect %1?</source>
        <translation>%1 trennen?</translation>
    </message>
    <message>
        <source>Disconnect</source>
        <translation>Trennen</translation>
    </message>
    <message>
        <source>Connection %1 of %2 is closed and does not reconnect by itself. The action is written to the audit log of %3.</source>
        <translation>Verbindung %1 von %2 wird geschlossen und baut sich nicht von selbst wieder auf. Die Aktion wird im Prüfprotokoll von %3 vermerkt.</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Node %1 (this node), %2, %3 connections, up %4</source>
        <translation>Knoten %1 (dieser Knoten), %2, %3 Verbindungen, läuft seit %4</translation>
    </message>
    <message>
        <source>Node %1, %2, %3 connections, up %4</source>
        <translation>Knoten %1, %2, %3 Verbindungen, läuft seit %4</translation>
    </message>
    <message>
        <source>healthy</source>
        <translation>funktionsfähig</translation>
    </message>
    <message>
        <source>not healthy</source>
        <translation>gestört</translation>
    </message>
    <message>
        <source>%1 (this node)</source>
        <translation>%1 (dieser Knoten)</translation>
    </message>
    <message numerus="yes">
        <source>%n connection(s) · up %1</source>
        <translation>
            <numerusform>%n Verbindung · läuft seit %1</numerusform>
            <numerusform>%n Verbindungen · läuft seit %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Clock</name>
    <message>
        <source>just now</source>
        <translation>gerade eben</translation>
    </message>
    <message numerus="yes">
        <source>%n min ago</source>
        <translation>
            <numerusform>vor %n Minute</numerusform>
            <numerusform>vor %n Minuten</numerusform>
        </translation>
    </message>
    <message>
        <source>yesterday %1</source>
        <translation>gestern %1</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Heute</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>Gestern</translation>
    </message>
</context>
<context>
    <name>ConnectionStatusBar</name>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbindung wird aufgebaut…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Verbindung wird wiederhergestellt…</translation>
    </message>
    <message>
        <source>Disconnecting…</source>
        <translation>Verbindung wird getrennt…</translation>
    </message>
    <message>
        <source> (retry in %1 s)</source>
        <translation> (neuer Versuch in %1 s)</translation>
    </message>
    <message>
        <source>RTT %1 ms</source>
        <translation>RTT %1 ms</translation>
    </message>
    <message>
        <source>%1 queued</source>
        <translation>%1 in der Warteschlange</translation>
    </message>
    <message numerus="yes">
        <source>%n missed notification(s) replayed</source>
        <translation>
            <numerusform>%n verpasste Benachrichtigung nachgeliefert</numerusform>
            <numerusform>%n verpasste Benachrichtigungen nachgeliefert</numerusform>
        </translation>
    </message>
    <message>
        <source>Some notifications could not be recovered</source>
        <translation>Einige Benachrichtigungen konnten nicht wiederhergestellt werden</translation>
    </message>
</context>
<context>
    <name>DashboardView</name>
    <message>
        <source>%1 · %2 · %3</source>
        <translation>%1 · %2 · %3</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>Design</translation>
    </message>
    <message>
        <source>System</source>
        <translation>System</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Hell</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Dunkel</translation>
    </message>
    <message>
        <source>Sign out</source>
        <translation>Abmelden</translation>
    </message>
    <message>
        <source>System alert: %1</source>
        <translation>Systemwarnung: %1</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Notifications (%1)</source>
        <translation>Benachrichtigungen (%1)</translation>
    </message>
    <message>
        <source>Notifications</source>
        <translation>Benachrichtigungen</translation>
    </message>
    <message>
        <source>Presence (%1)</source>
        <translation>Anwesenheit (%1)</translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>Dokumente</translation>
    </message>
    <message>
        <source>Admin console</source>
        <translation>Administrationskonsole</translation>
    </message>
    <message numerus="yes">
        <source>You are offline. Trying again in %n second(s); what you miss meanwhile comes when the connection is back.</source>
        <translation>
            <numerusform>Sie sind offline. Neuer Versuch in %n Sekunde; was Sie in der Zwischenzeit verpassen, kommt, sobald die Verbindung wieder steht.</numerusform>
            <numerusform>Sie sind offline. Neuer Versuch in %n Sekunden; was Sie in der Zwischenzeit verpassen, kommt, sobald die Verbindung wieder steht.</numerusform>
        </translation>
    </message>
    <message>
        <source>You are offline. Reconnecting…</source>
        <translation>Sie sind offline. Verbindung wird wiederhergestellt…</translation>
    </message>
    <message>
        <source>You are offline: %1</source>
        <translation>Sie sind offline: %1</translation>
    </message>
    <message>
        <source>the connection ended.</source>
        <translation>die Verbindung wurde beendet.</translation>
    </message>
    <message>
        <source>Retry now</source>
        <translation>Jetzt erneut versuchen</translation>
    </message>
</context>
<context>
    <name>DocumentsView</name>
    <message>
        <source>Document name, e.g. welcome</source>
        <translation>Dokumentname, z. B. willkommen</translation>
    </message>
    <message>
        <source>Join</source>
        <translation>Beitreten</translation>
    </message>
    <message>
        <source>Leave</source>
        <translation>Verlassen</translation>
    </message>
    <message numerus="yes">
        <source>%1 · version %2 · %n patch(es)</source>
        <translation>
            <numerusform>%1 · Version %2 · %n Patch</numerusform>
            <numerusform>%1 · Version %2 · %n Patches</numerusform>
        </translation>
    </message>
    <message>
        <source>Version gap detected (%1), caught up from the server. Gaps so far: %2</source>
        <translation>Versionslücke erkannt (%1), vom Server nachgeladen. Lücken bisher: %2</translation>
    </message>
    <message>
        <source>Version %1 by %2: %3</source>
        <translation>Version %1 von %2: %3</translation>
    </message>
    <message>
        <source>you</source>
        <translation>Sie</translation>
    </message>
    <message>
        <source>Join a document to see its edits live.</source>
        <translation>Treten Sie einem Dokument bei, um seine Änderungen live zu sehen.</translation>
    </message>
    <message>
        <source>No edits yet: send the first patch.</source>
        <translation>Noch keine Änderungen: Senden Sie den ersten Patch.</translation>
    </message>
    <message>
        <source>Patch JSON, e.g. {&quot;op&quot;:&quot;append&quot;,&quot;text&quot;:&quot;hello&quot;}</source>
        <translation>Patch als JSON, z. B. {&quot;op&quot;:&quot;append&quot;,&quot;text&quot;:&quot;hallo&quot;}</translation>
    </message>
    <message>
        <source>Your role can read documents but not edit them</source>
        <translation>Ihre Rolle darf Dokumente lesen, aber nicht bearbeiten</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Senden</translation>
    </message>
</context>
<context>
    <name>Heliograph::Desktop::LineChart</name>
    <message numerus="yes">
        <source>-%n min</source>
        <translation>
            <numerusform>-%n min</numerusform>
            <numerusform>-%n min</numerusform>
        </translation>
    </message>
    <message>
        <source>now</source>
        <translation>jetzt</translation>
    </message>
</context>
<context>
    <name>Heliograph::Desktop::Session</name>
    <message>
        <source>Could not load older notifications: %1</source>
        <translation>Ältere Benachrichtigungen konnten nicht geladen werden: %1</translation>
    </message>
    <message>
        <source>%1 did not answer in time. Check the address, or try again.</source>
        <translation>%1 hat nicht rechtzeitig geantwortet. Prüfen Sie die Adresse oder versuchen Sie es erneut.</translation>
    </message>
    <message>
        <source>Cannot reach %1: %2</source>
        <translation>%1 ist nicht erreichbar: %2</translation>
    </message>
    <message>
        <source>%1 is not a Heliograph server (it has no sign-in). Check the address.</source>
        <translation>%1 ist kein Heliograph-Server (er bietet keine Anmeldung). Prüfen Sie die Adresse.</translation>
    </message>
    <message>
        <source>The server answered %1.</source>
        <translation>Der Server antwortete %1.</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address, e.g. heliograph.example.com or 127.0.0.1:5000.</source>
        <translation>Geben Sie die Adresse des Servers ein, z. B. heliograph.example.com oder 127.0.0.1:5000.</translation>
    </message>
    <message>
        <source>Enter your username and password.</source>
        <translation>Geben Sie Benutzername und Passwort ein.</translation>
    </message>
    <message>
        <source>Wrong username or password.</source>
        <translation>Benutzername oder Passwort ist falsch.</translation>
    </message>
    <message>
        <source>This computer has no password storage (keychain) running, so you will be asked for your password again next time.</source>
        <translation>Auf diesem Computer läuft keine Passwortverwaltung (Schlüsselbund), deshalb werden Sie beim nächsten Mal erneut nach Ihrem Passwort gefragt.</translation>
    </message>
    <message>
        <source>This computer has no password storage (keychain) running: sign in with your password.</source>
        <translation>Auf diesem Computer läuft keine Passwortverwaltung (Schlüsselbund): Melden Sie sich mit Ihrem Passwort an.</translation>
    </message>
</context>
<context>
    <name>Main</name>
    <message>
        <source>Heliograph — %1 (%2)</source>
        <translation>Heliograph — %1 (%2)</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
</context>
<context>
    <name>NotificationsView</name>
    <message>
        <source>Filter by type</source>
        <translation>Nach Typ filtern</translation>
    </message>
    <message>
        <source>All types</source>
        <translation>Alle Typen</translation>
    </message>
    <message>
        <source>Unread only</source>
        <translation>Nur ungelesene</translation>
    </message>
    <message numerus="yes">
        <source>%n unread</source>
        <translation>
            <numerusform>%n ungelesen</numerusform>
            <numerusform>%n ungelesen</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n replayed</source>
        <translation>
            <numerusform>%n nachgeliefert</numerusform>
            <numerusform>%n nachgeliefert</numerusform>
        </translation>
    </message>
    <message>
        <source>Mark all read</source>
        <translation>Alle als gelesen markieren</translation>
    </message>
    <message>
        <source>Unread: </source>
        <translation>Ungelesen: </translation>
    </message>
    <message>
        <source>replayed</source>
        <translation>nachgeliefert</translation>
    </message>
    <message numerus="yes">
        <source>%n new</source>
        <translation>
            <numerusform>%n neu</numerusform>
            <numerusform>%n neu</numerusform>
        </translation>
    </message>
    <message>
        <source>No notifications match the filter.</source>
        <translation>Keine Benachrichtigung entspricht dem Filter.</translation>
    </message>
    <message>
        <source>No notifications yet. New ones appear here as they arrive.</source>
        <translation>Noch keine Benachrichtigungen. Neue erscheinen hier, sobald sie eintreffen.</translation>
    </message>
    <message>
        <source>Loading older notifications…</source>
        <translation>Ältere Benachrichtigungen werden geladen…</translation>
    </message>
    <message>
        <source>No older notifications.</source>
        <translation>Keine älteren Benachrichtigungen.</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>Load older</source>
        <translation>Ältere laden</translation>
    </message>
    <message>
        <source>Notification details</source>
        <translation>Details der Benachrichtigung</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Close the details (Esc)</source>
        <translation>Details schließen (Esc)</translation>
    </message>
    <message>
        <source>replayed after an outage</source>
        <translation>nach einer Unterbrechung nachgeliefert</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Nachricht</translation>
    </message>
    <message>
        <source>Mark unread</source>
        <translation>Als ungelesen markieren</translation>
    </message>
    <message>
        <source>Mark read</source>
        <translation>Als gelesen markieren</translation>
    </message>
</context>
<context>
    <name>Options</name>
    <message>
        <source>The server&apos;s URL.</source>
        <translation>Die URL des Servers.</translation>
    </message>
    <message>
        <source>Sign in as this user.</source>
        <translation>Als dieser Benutzer anmelden.</translation>
    </message>
    <message>
        <source>Read the password from standard input.</source>
        <translation>Das Passwort von der Standardeingabe lesen.</translation>
    </message>
    <message>
        <source>Read an access token from standard input.</source>
        <translation>Ein Zugriffstoken von der Standardeingabe lesen.</translation>
    </message>
    <message>
        <source>Open this view: notifications, presence, documents, admin.</source>
        <translation>Diese Ansicht öffnen: notifications, presence, documents, admin.</translation>
    </message>
    <message>
        <source>Heliograph desktop: notifications, presence, documents.</source>
        <translation>Heliograph Desktop: Benachrichtigungen, Anwesenheit, Dokumente.</translation>
    </message>
</context>
<context>
    <name>PresenceView</name>
    <message>
        <source>%1 online in %2 · %3 connections</source>
        <translation>%1 online in %2 · %3 Verbindungen</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Aktualisieren</translation>
    </message>
    <message>
        <source>  (you)</source>
        <translation>  (Sie)</translation>
    </message>
    <message numerus="yes">
        <source>%n connection(s)</source>
        <translation>
            <numerusform>%n Verbindung</numerusform>
            <numerusform>%n Verbindungen</numerusform>
        </translation>
    </message>
    <message>
        <source>Nobody is online.</source>
        <translation>Niemand ist online.</translation>
    </message>
    <message>
        <source>Offline: last known. </source>
        <translation>Offline: letzter bekannter Stand. </translation>
    </message>
</context>
<context>
    <name>SignInView</name>
    <message>
        <source>Sign in to Heliograph</source>
        <translation>Bei Heliograph anmelden</translation>
    </message>
    <message>
        <source>Saved servers</source>
        <translation>Gespeicherte Server</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>Benutzername</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Passwort</translation>
    </message>
    <message>
        <source>Signing in…</source>
        <translation>Anmeldung läuft…</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Anmelden</translation>
    </message>
    <message>
        <source>Saved server</source>
        <translation>Gespeicherter Server</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Serveradresse</translation>
    </message>
    <message>
        <source>e.g. heliograph.example.com or 127.0.0.1:5000</source>
        <translation>z. B. heliograph.example.com oder 127.0.0.1:5000</translation>
    </message>
    <message>
        <source>Your username, e.g. alice</source>
        <translation>Ihr Benutzername, z. B. alice</translation>
    </message>
    <message>
        <source>Your password</source>
        <translation>Ihr Passwort</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
</context>
<context>
    <name>StateView</name>
    <message>
        <source>Retry</source>
        <translation>Erneut versuchen</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Wird geladen…</translation>
    </message>
</context>
</TS>
