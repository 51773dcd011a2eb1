# TCP proxy for fault tests: accepts ONE client on LISTEN_PORT, connects to TARGET_PORT, forwards
# server->client fully and client->server up to LIMIT bytes, then either cuts both sockets ("cut")
# or keeps them open without forwarding until STALL seconds pass ("stall"). Prints "ready" and "limit".
import socket, sys, threading, time
listen_port, target_port, limit, mode, stall = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port)); srv.listen(1); srv.settimeout(30)
print("ready", flush=True)
cli, _ = srv.accept()
up = socket.create_connection(("127.0.0.1", target_port), timeout=30)
def back():
    try:
        while True:
            d = up.recv(65536)
            if not d: break
            cli.sendall(d)
    except OSError: pass
threading.Thread(target=back, daemon=True).start()
sent = 0
try:
    while sent < limit:
        d = cli.recv(min(65536, limit - sent))
        if not d: break
        up.sendall(d); sent += len(d)
except OSError: pass
print("limit", sent, flush=True)
if mode == "stall": time.sleep(stall)
for s in (up, cli):
    try: s.shutdown(socket.SHUT_RDWR)
    except OSError: pass
    s.close()
print("closed", flush=True)
