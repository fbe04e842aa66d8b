/**
 * The practical ceiling: a `ws` server that forwards every frame to the other
 * sockets of the same path, with no CRDT work, no storage and no acks.
 * Written by hand because the point is to do nothing a real relay does.
 */
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);
const rooms = new Map<string, Set<WebSocket>>();
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
server.on('connection', (socket, request) => {
  const room = (request.url ?? '/').split('?')[0] ?? '/';
  let peers = rooms.get(room);
  if (!peers) rooms.set(room, (peers = new Set()));
  peers.add(socket);
  socket.on('message', (data, isBinary) => {
    for (const peer of peers) if (peer !== socket) peer.send(data, { binary: isBinary });
  });
  socket.on('close', () => {
    peers.delete(socket);
    if (peers.size === 0) rooms.delete(room);
  });
});
server.on('listening', () => console.log(`listening on ws://127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
