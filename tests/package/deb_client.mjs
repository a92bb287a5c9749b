// SPDX-License-Identifier: MIT
// Microsoft's JavaScript client (@microsoft/signalr, the conformance suite's npm tree) against
// the heliograph-server a Debian package installed: debian_test.sh server.
//   node deb_client.mjs BASE_URL EDITOR_TOKEN ADMIN_TOKEN   (HG_NODE_MODULES: the node_modules)
// Over each transport: connect, JoinDocument, then a notification pushed through the HTTP API
// (admin token) arrives as ReceiveNotification. Exits 0 only if everything did, within 20 s.
import { createRequire } from 'node:module';

const [base, editor, admin] = process.argv.slice(2);
if (!base || !editor || !admin || !process.env.HG_NODE_MODULES) {
  console.error('usage: HG_NODE_MODULES=DIR node deb_client.mjs BASE_URL EDITOR_TOKEN ADMIN_TOKEN');
  process.exit(2);
}
const require = createRequire(`${process.env.HG_NODE_MODULES}/`);
const signalR = require('@microsoft/signalr');

const deadline = setTimeout(() => {
  console.error('FAILED: not done within 20 s');
  process.exit(1);
}, 20000);

for (const [name, transport] of Object.entries({
  WebSockets: signalR.HttpTransportType.WebSockets,
  ServerSentEvents: signalR.HttpTransportType.ServerSentEvents,
  LongPolling: signalR.HttpTransportType.LongPolling,
})) {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/hubs/notifications`, { transport, accessTokenFactory: () => editor })
    .configureLogging(signalR.LogLevel.Error)
    .build();
  const title = `from the package over ${name}`;
  const received = new Promise((resolve) => {
    connection.on('ReceiveNotification', (n) => { if (n.title === title) resolve(n); });
  });
  await connection.start();
  const version = Number(await connection.invoke('JoinDocument', `package-${name}`));
  if (version !== 0) throw new Error(`JoinDocument answered ${version}`);
  const response = await fetch(`${base}/api/tenants/acme/users/ann/notifications`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${admin}` },
    body: JSON.stringify({ title, body: 'pushed', type: 'info' }),
  });
  if (response.status !== 202) throw new Error(`push answered ${response.status}: ${await response.text()}`);
  const notification = await received;
  console.log(`${name}: connected (${connection.connectionId}), JoinDocument -> 0, ` +
    `ReceiveNotification "${notification.title}" (sequence ${notification.sequence})`);
  await connection.stop();
}
clearTimeout(deadline);
