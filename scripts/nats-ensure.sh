#!/usr/bin/env bash
# Prints the URL of a NATS server with JetStream that answers: XCLADE_NATS_URL when set, else
# 127.0.0.1:4222 when it answers, else a private `nats-server -js` started on a free port with
# its store under target/nats-dev (stop it: kill "$(cat target/nats-dev/pid)").
# Installs the Debian package `nats-server` when the binary is missing (the event tests start
# private servers of their own and need it even when a shared server answers).
set -euo pipefail
cd "$(dirname "$0")/.."

find_binary() {
    for b in "${NATS_SERVER:-}" /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server "$(command -v nats-server 2>/dev/null || true)"; do
        if [[ -n "$b" && -x "$b" ]]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

if ! bin="$(find_binary)"; then
    echo "nats-ensure: nats-server not found; installing the Debian package nats-server" >&2
    sudo_cmd=()
    [[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get install -y -q nats-server >&2 || { "${sudo_cmd[@]}" apt-get update -q >&2 && "${sudo_cmd[@]}" apt-get install -y -q nats-server >&2; }
    bin="$(find_binary)"
fi

answers() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [[ -n "${XCLADE_NATS_URL:-}" ]]; then
    echo "$XCLADE_NATS_URL"
    exit 0
fi
if answers 127.0.0.1 4222; then
    echo "nats://127.0.0.1:4222"
    exit 0
fi
dir="target/nats-dev"
mkdir -p "$dir"
if [[ -f "$dir/port" ]] && answers 127.0.0.1 "$(cat "$dir/port")"; then
    echo "nats://127.0.0.1:$(cat "$dir/port")"
    exit 0
fi
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
nohup "$bin" -js -a 127.0.0.1 -p "$port" -sd "$dir/store" >"$dir/log" 2>&1 &
echo $! >"$dir/pid"
echo "$port" >"$dir/port"
for _ in $(seq 1 100); do
    answers 127.0.0.1 "$port" && break
    sleep 0.1
done
answers 127.0.0.1 "$port" || { echo "nats-ensure: nats-server did not start (see $dir/log)" >&2; exit 1; }
echo "nats-ensure: started a private nats-server on 127.0.0.1:$port" >&2
echo "nats://127.0.0.1:$port"
