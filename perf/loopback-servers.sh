# Helpers shared by the scripts that start servers on loopback (sourced, not run).
# READY_POLLS_MAX: how many 50 ms PING polls a server gets to start.
READY_POLLS_MAX=200

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Waits until the server on port $1 answers PING; exits the calling script otherwise.
wait_ready() {
    local port=$1
    for _ in $(seq "$READY_POLLS_MAX"); do
        [ "$(redis-cli -p "$port" PING 2>/dev/null)" = "PONG" ] && return 0
        sleep 0.05
    done
    echo "$(basename "$0" .sh): server on port $port did not start" >&2
    exit 1
}
