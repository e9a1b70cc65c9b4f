#!/bin/sh
# igd-netns.sh runs a real UPnP IGD router (miniupnpd, nftables backend) for
# tests, inside two network namespaces that only this machine sees:
#
#   netns ${P}lan                         netns ${P}igd
#   lan0 10.77.0.1/24  <--- veth --->  igd0 10.77.0.2/24   miniupnpd listens here
#                                       wan0 192.0.2.1/24   (veth to wan1, nothing behind)
#
# The router reports the external address 11.22.33.44: a label only, no
# interface has it and no packet is sent to it. A client run with
# 'ip netns exec ${P}lan ...' finds the router by SSDP multicast on lan0.
#
# Usage (as root):  igd-netns.sh up|down|list
#   up     creates the namespaces and starts miniupnpd; prints the names
#   list   the router's port mappings, as upnpc -l sees them from the LAN side
#   down   stops miniupnpd, deletes the namespaces and the work folder
# Environment:
#   IGD_NS_PREFIX  prefix of the namespace names (default "sd"): P above.
#                  Use a unique one per run so parallel runs do not clash.
#   IGD_DIR        work folder for config, log and pid (default /tmp/igd-netns-P)
#   IGD_V1=1       describe the router as IGD version 1 (default: version 2)
# Needs: iproute2, nftables, miniupnpd, miniupnpd-nftables (and miniupnpc for list).
set -eu

P=${IGD_NS_PREFIX:-sd}
LAN=${P}lan
IGD=${P}igd
DIR=${IGD_DIR:-/tmp/igd-netns-$P}
URL=http://10.77.0.2:5000/rootDesc.xml

down() {
	if [ -f "$DIR/miniupnpd.pid" ]; then
		pid=$(cat "$DIR/miniupnpd.pid")
		kill "$pid" 2>/dev/null || true
		# miniupnpd removes its rules on SIGTERM; give it a moment.
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
	ip netns del "$LAN" 2>/dev/null || true
	ip netns del "$IGD" 2>/dev/null || true
	rm -rf "$DIR"
}

up() {
	for c in ip nft miniupnpd; do
		command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] || {
			echo "igd-netns: $c is missing (apt-get install iproute2 nftables miniupnpd miniupnpd-nftables)" >&2
			exit 1
		}
	done
	mkdir -p "$DIR"
	ip netns add "$LAN"
	ip netns add "$IGD"
	# Both ends are created directly inside their namespaces: the host's
	# own interfaces are never touched.
	ip link add lan0 netns "$LAN" type veth peer name igd0 netns "$IGD"
	ip -n "$IGD" link add wan0 type veth peer name wan1
	ip -n "$LAN" addr add 10.77.0.1/24 dev lan0
	ip -n "$IGD" addr add 10.77.0.2/24 dev igd0
	ip -n "$IGD" addr add 192.0.2.1/24 dev wan0
	ip -n "$LAN" link set lo up
	ip -n "$LAN" link set lan0 multicast on up
	ip -n "$IGD" link set lo up
	ip -n "$IGD" link set igd0 multicast on up
	ip -n "$IGD" link set wan0 up
	ip -n "$IGD" link set wan1 up
	# SSDP: the search goes to 239.255.255.250 out of lan0.
	ip -n "$LAN" route add 224.0.0.0/4 dev lan0
	ip -n "$IGD" route add 224.0.0.0/4 dev igd0
	ip -n "$LAN" route add default via 10.77.0.2 dev lan0

	# The tables and chains miniupnpd-nftables fills (its default names).
	cat >"$DIR/rules.nft" <<'EOF'
table inet filter {
	chain miniupnpd {
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		jump miniupnpd
	}
	chain prerouting_miniupnpd {
	}
	chain prerouting {
		type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting_miniupnpd {
	}
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
	}
}
EOF
	ip netns exec "$IGD" nft -f "$DIR/rules.nft"

	v1=no
	[ "${IGD_V1:-0}" = 1 ] && v1=yes
	cat >"$DIR/miniupnpd.conf" <<EOF
ext_ifname=wan0
ext_ip=11.22.33.44
listening_ip=igd0
http_port=5000
enable_upnp=yes
enable_natpmp=no
secure_mode=yes
system_uptime=yes
force_igd_desc_v1=$v1
notify_interval=60
uuid=5a1e0c2d-7f3b-4d5e-9a8b-0c1d2e3f4a5b
friendly_name=swarmdrop test router
allow 1024-65535 10.77.0.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
	ip netns exec "$IGD" miniupnpd -d -f "$DIR/miniupnpd.conf" -P "$DIR/miniupnpd.pid.run" \
		>"$DIR/miniupnpd.log" 2>&1 &
	echo $! >"$DIR/miniupnpd.pid"
	i=0
	until ip netns exec "$IGD" ss -Hltn 'sport = :5000' | grep -q 5000; do
		i=$((i + 1))
		if [ $i -gt 50 ] || ! kill -0 "$(cat "$DIR/miniupnpd.pid")" 2>/dev/null; then
			echo "igd-netns: miniupnpd did not start; its log:" >&2
			cat "$DIR/miniupnpd.log" >&2
			down
			exit 1
		fi
		sleep 0.1
	done
	echo "lan=$LAN igd=$IGD url=$URL dir=$DIR"
}

case "${1:-}" in
up) up ;;
down) down ;;
list) ip netns exec "$LAN" upnpc -u "$URL" -l ;;
*)
	echo "usage: $0 up|down|list  (env IGD_NS_PREFIX, IGD_DIR, IGD_V1)" >&2
	exit 2
	;;
esac
