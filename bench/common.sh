# Shell helpers shared by bench/run.sh and bench/cluster.sh (sourced, not run).

need_apt() {  # install a Debian package when its command is missing (root on CI and the bench machine)
  command -v "$1" >/dev/null && return
  echo "bench: installing $2"
  if [ "$(id -u)" -ne 0 ]; then echo "bench: $1 is missing; run: sudo apt-get install -y $2" >&2; exit 1; fi
  apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}

free_port() {  # a TCP port free on 127.0.0.1 right now (the kernel picks it)
  "$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
