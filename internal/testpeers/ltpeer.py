#!/usr/bin/python3
"""Swarmdrop's reference peer for tests: libtorrent-rasterbar (Debian's
python3-libtorrent), run with /usr/bin/python3. Everything binds to the
loopback address given with --ip (127.0.0.0/8, or ::1 for IPv6; host:port
lists then take the [::1]:port form); nothing else is contacted:
LSD, UPnP, NAT-PMP and uTP are off, and the DHT only knows the contacts given.
--lsd (seed, download) turns on local service discovery (BEP 14, libtorrent's
enable_lsd) on the interface of --ip: use it only with an --ip inside a
network namespace the test made, never on the machine's own network.

  ltpeer.py create PATH OUT [--piece-length N] [--nodes h:p,h:p] [--tracker URL] [--private] [--pad]
  ltpeer.py info TORRENT [--attrs]
  (create --pad: a v1 torrent with BEP 47 pad files, libtorrent's
  canonical_files layout: files sorted, each aligned to a piece boundary,
  as in every v2 or hybrid torrent; info --attrs: also one line
  'attr FLAGS PATH' per file, FLAGS made of p (pad), x, h, l, or '-')
  ltpeer.py seed TORRENT DIR --port P [--ip A] [--dht h:p,..] [--seconds S] [--check] [--rate B/s] [--lsd [--lsd-interval S]] [--utp]
  ltpeer.py download TORRENT|MAGNET DIR --port P [--ip A] [--peer h:p] [--dht h:p,..] [--seconds S] [--lsd [--lsd-interval S]] [--flush] [--utp]
  (seed and download also take --bind-outgoing: outgoing connections come
  from --ip too, not from the kernel's choice (127.0.0.1 for a loopback
  peer); and --print-peers: print 'CLIENT ip:port NAME' when a peer's
  client name (libtorrent's peer_info.client) is first known or changes,
  and 'PEERID ip:port NAME' with what libtorrent's identify_client makes of
  its peer ID alone)
  (seed and download also take --lean: post only the alerts this script
  reads, instead of every category, whose peer and picker logs cost
  libtorrent a formatted line per message; seed takes --print-uploads:
  print 'UPLOAD <piece> <block>' for each block sent; download takes
  --peers h:p,h:p (connect to each, again every 5 s while not connected),
  --stay (keep seeding after DONE until --seconds end), --poll S (status
  poll interval, default 0.01), --progress S (print 'PROGRESS
  <seconds> <bytes done> <peers>' every S seconds), --health S (print
  'HEALTH <seconds> <pieces as 0/1> <total_failed_bytes> <hash_failed
  alerts> <peers>' every S seconds, and once at DONE or TIMEOUT) and --wait-file PATH
  (once listening, wait until PATH exists before adding the torrent; the
  seconds of DONE count from then), --down-rate B/s and --up-rate B/s (the
  torrent's own limits, which apply to local peers too))
  (seed and download also take --no-pex: the torrent ignores what PEX
  (ut_pex) tells it, though it still tells others)
  ltpeer.py dht --port P [--ip A] [--bootstrap h:p,..] [--announce HEX] [--get HEX] [--seconds S]
      [--put-immutable TEXT] [--put-mutable TEXT --key SEEDHEX] [--salt HEX] [--put-delay S]
      [--get-immutable HEX] [--get-mutable PUBKEYHEX [--get-salt HEX]]
  (BEP 44 items, with libtorrent's own puts and gets: --put-immutable puts
  the string TEXT, --put-mutable puts the string TEXT as a mutable item
  under the ed25519 key whose 32-byte seed is SEEDHEX (libtorrent signs it,
  with the seq after the highest it finds), under the salt --salt, once,
  --put-delay seconds after start (default 3); --get-immutable and
  --get-mutable look an item up each second (a mutable one with --salt, or
  --get-salt if given).
  Mutable puts need python3-cryptography, for the public key.)

  ltpeer.py seedmany TORRENTDIR DIR --port P [--ip A] [--dht h:p,..] [--seconds S]
  (every TORRENTDIR/*.torrent in seed mode, data in DIR, as one session
  holding many torrents: no queueing limits, all announced on the DHT with
  libtorrent's own schedule; prints 'ADDED n <seconds>' once all are added
  and 'ALLSEEDING n <seconds>' once all seed, seconds since start)
  (dht --count-queries: no per-address rate limit, and once a second with
  traffic 'QUERIES <unix time> get_peers=N announce_peer=N packets_in=N':
  what other nodes asked of this one in that second)

Output lines (flushed): 'LISTENING <port>' once listening; 'ANNOUNCED' when a seeder's tracker or DHT announce is answered; 'DONE <seconds> s
<bytes> bytes' when a download completes (exit 0) or 'TIMEOUT ...' (exit 1);
'NODES n' each second from dht; 'PEER ip:port' for each peer found;
'FIRSTPEER <seconds>' and 'FIRSTPIECE <seconds>' from download when the first
peer is connected and the first piece verified (seconds since the torrent was
added); with --lsd, 'LSDPEER <libtorrent's message>' for each peer local
service discovery reports and 'LSDERROR <message>' when it fails.

libtorrent 2.0 hashes a piece from the blocks still waiting to be written, so
it may call a download complete before its writes have reached the files: a
test that reads them at DONE can see a piece of zeros. With --flush, download
prints DONE only once libtorrent has finished writing (flush_cache, then its
cache_flushed_alert); the time it reports is still that of completion.

--utp (seed, download) makes peer connections use uTP only (BEP 29): TCP
is off both ways, uTP on both ways (on the UDP port of the same number);
then 'PEERCONN ip:port utp|tcp' is printed for each new peer connection.
--utp-too (seed, download) keeps TCP on and turns uTP on as well, as
libtorrent does by default (it then prefers uTP for outgoing connections).
It prints no 'PEERCONN' lines (they cost a poll of every peer).
"""
import argparse, os, sys, tempfile, time
import libtorrent as lt


def endpoint(ip, port):
    """host:port, with an IPv6 address in brackets."""
    return ('[%s]:%d' if ':' in ip else '%s:%d') % (ip, port)


def session(port, ip, dht_boot=None, dht=True, upload_limit=0, lsd=False, lsd_interval=0, outgoing='', utp=False, utp_too=False):
    s = {
        'upload_rate_limit': upload_limit,
        'listen_interfaces': endpoint(ip, port),
        'outgoing_interfaces': outgoing,
        'enable_dht': dht,
        'enable_lsd': lsd, 'enable_upnp': False, 'enable_natpmp': False,
        'enable_incoming_utp': False, 'enable_outgoing_utp': False,
        'allow_multiple_connections_per_ip': True,
        'dht_restrict_routing_ips': False, 'dht_restrict_search_ips': False,
        'dht_ignore_dark_internet': False, 'dht_enforce_node_id': False,
        'dht_prefer_verified_node_ids': False,
        'dht_bootstrap_nodes': dht_boot or '',
        'alert_mask': lt.alert.category_t.all_categories,
        'user_agent': 'ltpeer/' + lt.__version__,
    }
    if lsd_interval:
        s['local_service_announce_interval'] = lsd_interval
    if utp_too:
        s.update({'enable_incoming_utp': True, 'enable_outgoing_utp': True})
    if utp:
        s.update({'enable_incoming_tcp': False, 'enable_outgoing_tcp': False,
                  'enable_incoming_utp': True, 'enable_outgoing_utp': True})
    ses = lt.session(s)
    return ses


# LEAN_OFF are the alert categories --lean turns off: the log categories
# (a formatted line per peer message or picker decision) and the per-block
# and per-piece notifications, none of which this script reads.
LEAN_OFF = ('peer_log_notification', 'torrent_log_notification', 'session_log_notification',
            'dht_log_notification', 'picker_log_notification', 'port_mapping_log_notification',
            'block_progress_notification', 'piece_progress_notification', 'file_progress_notification',
            'incoming_request_notification', 'upload_notification', 'stats_notification',
            'progress_notification')


def lean(ses, a):
    """With --lean, posts only the alerts this script reads (and the
    block uploads with --print-uploads)."""
    if not getattr(a, 'lean', False):
        return
    mask = int(lt.alert.category_t.all_categories)
    for name in LEAN_OFF:
        mask &= ~int(getattr(lt.alert.category_t, name))
    if getattr(a, 'print_uploads', False):
        mask |= int(lt.alert.category_t.upload_notification)
    ses.apply_settings({'alert_mask': mask & 0x7fffffff})


def wait_listen(ses, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        for al in ses.pop_alerts():
            if isinstance(al, lt.listen_succeeded_alert):
                print('LISTENING %d' % al.port, flush=True)
                return
            if isinstance(al, lt.listen_failed_alert):
                print('LISTEN_FAILED %s' % al.message(), flush=True)
                sys.exit(3)
        time.sleep(0.02)


def hp(s):
    h, p = s.strip().rsplit(':', 1)
    return h.strip('[]'), int(p)


def cmd_create(a):
    fs = lt.file_storage()
    lt.add_files(fs, a.path)
    flags = lt.create_torrent.v1_only if hasattr(lt.create_torrent, 'v1_only') else 0
    if a.pad:
        flags |= lt.create_torrent.canonical_files
    ct = lt.create_torrent(fs, a.piece_length or 0, flags=flags)
    for n in (a.nodes or '').split(','):
        if n.strip():
            h, p = hp(n)
            ct.add_node(h, p)
    for i, t in enumerate(a.tracker or []):
        ct.add_tracker(t, i)
    if a.private:
        ct.set_priv(True)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(a.path)))
    with open(a.out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    print(lt.torrent_info(a.out).info_hash(), flush=True)


def cmd_info(a):
    ti = lt.torrent_info(a.torrent)
    print('infohash', ti.info_hash())
    print('name', ti.name(), 'pieces', ti.num_pieces(), 'piece_length', ti.piece_length(), 'size', ti.total_size())
    print('nodes', ','.join('%s:%d' % n for n in ti.nodes()))
    print('trackers', ','.join(t.url for t in ti.trackers()))
    print('private', int(ti.priv()))
    fs = ti.files()
    for i in range(fs.num_files()):
        print('file', fs.file_size(i), fs.file_path(i))
    if a.attrs:
        names = ((fs.flag_pad_file, 'p'), (fs.flag_executable, 'x'), (fs.flag_hidden, 'h'), (fs.flag_symlink, 'l'))
        for i in range(fs.num_files()):
            fl = fs.file_flags(i)
            print('attr', ''.join(c for f, c in names if fl & f) or '-', fs.file_path(i))


def add(ses, src, d, seed=False, pex=True):
    if src.startswith('magnet:'):
        p = lt.parse_magnet_uri(src)
    else:
        p = lt.add_torrent_params()
        p.ti = lt.torrent_info(src)
    p.save_path = d
    if seed:
        p.flags |= lt.torrent_flags.seed_mode
    if not pex:
        p.flags |= lt.torrent_flags.disable_pex
    return ses.add_torrent(p)


class PeerPrinter:
    """Prints each peer's client name (--print-peers) once known."""

    def __init__(self, on):
        self.on, self.names, self.ids = on, {}, set()

    def poll(self, h):
        if not self.on:
            return
        for p in h.get_peer_info():
            key = '%s:%d' % p.ip
            name = p.client
            if isinstance(name, bytes):
                name = name.decode('utf-8', 'replace')
            if name and self.names.get(key) != name:
                self.names[key] = name
                print('CLIENT %s %s' % (key, name), flush=True)
            if key not in self.ids and not p.pid.is_all_zeros():
                self.ids.add(key)
                print('PEERID %s %s' % (key, lt.identify_client(p.pid)), flush=True)


def outgoing(a):
    return a.ip if a.bind_outgoing else ''


# UTP_SOCKET is libtorrent's peer_info flag for a uTP connection (bit 17
# of peer_flags_t in libtorrent 2.0; not exported by the Python binding).
UTP_SOCKET = getattr(lt.peer_info, 'utp_socket', 1 << 17)


def report_conns(h, seen):
    """Prints 'PEERCONN ip:port utp|tcp' once for each new peer connection."""
    for p in h.get_peer_info():
        key = endpoint(*p.ip)
        if key not in seen:
            seen.add(key)
            print('PEERCONN %s %s' % (key, 'utp' if int(p.flags) & int(UTP_SOCKET) else 'tcp'), flush=True)


def cmd_seed(a):
    ses = session(a.port, a.ip, a.dht, dht=bool(a.dht), upload_limit=a.rate, lsd=a.lsd, lsd_interval=a.lsd_interval, outgoing=outgoing(a), utp=a.utp, utp_too=a.utp_too)
    lean(ses, a)
    peers = PeerPrinter(a.print_peers)
    wait_listen(ses)
    h = add(ses, a.torrent, a.dir, seed=not a.check, pex=not a.no_pex)
    if a.rate:
        # The session limit spares local peers (libtorrent's local peer
        # class); a torrent's own limit applies to every peer.
        h.set_upload_limit(a.rate)
    if a.check:
        end = time.time() + a.seconds
        while not h.status().is_seeding and time.time() < end:
            time.sleep(0.05)
    print('SEEDING', flush=True)
    end = time.time() + a.seconds
    last = 0
    seen = set()
    while time.time() < end:
        time.sleep(0.2)
        peers.poll(h)
        if a.utp:
            report_conns(h, seen)
        if a.dht and time.time() - last > 5:
            h.force_dht_announce()
            last = time.time()
        uploads = []
        for al in ses.pop_alerts():
            if isinstance(al, lt.block_uploaded_alert):
                if a.print_uploads:
                    uploads.append('UPLOAD %d %d' % (al.piece_index, al.block_index))
            elif isinstance(al, lt.peer_connect_alert) or isinstance(al, lt.incoming_connection_alert):
                print('CONNECT', flush=True)
            elif isinstance(al, lt.tracker_reply_alert) or isinstance(al, lt.dht_reply_alert):
                print('ANNOUNCED', flush=True)
            else:
                lsd_alert(al)
        if uploads:
            print('\n'.join(uploads), flush=True)
    return 0


def lsd_alert(al):
    """Prints what local service discovery did (with --lsd only)."""
    if al.what() == 'lsd_peer':  # not bound as a class: no fields, a message
        print('LSDPEER %s' % al.message(), flush=True)
    elif isinstance(al, lt.lsd_error_alert):
        print('LSDERROR %s' % al.message(), flush=True)


def cmd_download(a):
    ses = session(a.port, a.ip, a.dht, dht=bool(a.dht), lsd=a.lsd, lsd_interval=a.lsd_interval, outgoing=outgoing(a), utp=a.utp, utp_too=a.utp_too)
    lean(ses, a)
    peers = PeerPrinter(a.print_peers)
    wait_listen(ses)
    wait_file(a.wait_file, a.seconds)
    t0 = time.time()
    h = add(ses, a.torrent, a.dir, pex=not a.no_pex)
    if a.down_rate:
        h.set_download_limit(a.down_rate)
    if a.up_rate:
        h.set_upload_limit(a.up_rate)
    if a.peer:
        h.connect_peer(hp(a.peer))
    listed = Listed(h, a.peers)
    progress = Progress(a.progress, t0)
    health = Health(a.health, t0)
    end = t0 + a.seconds
    last_connect = time.time()
    first_peer = first_piece = False
    seen = set()
    while time.time() < end:
        st = h.status()
        peers.poll(h)
        if a.utp:
            report_conns(h, seen)
        if not first_peer and st.num_peers > 0:
            first_peer = True
            print('FIRSTPEER %.3f' % (time.time() - t0), flush=True)
        if not first_piece and st.num_pieces > 0:
            first_piece = True
            print('FIRSTPIECE %.3f' % (time.time() - t0), flush=True)
        if st.is_seeding or (st.has_metadata and st.state == lt.torrent_status.seeding):
            dt = time.time() - t0
            if a.flush and not flush(ses, h, 10):
                print('TIMEOUT flushing the disk cache', flush=True)
                return 1
            health.poll(st, force=True)
            print('DONE %.3f s %d bytes' % (dt, st.total_wanted), flush=True)
            if a.stay:
                stay(ses, end)
            return 0
        listed.poll()
        progress.poll(st)
        health.poll(st)
        if a.peer and st.num_peers == 0 and time.time() - last_connect > 1:
            h.connect_peer(hp(a.peer))
            last_connect = time.time()
        for al in ses.pop_alerts():
            lsd_alert(al)
            health.alert(al)
        time.sleep(a.poll)
    st = h.status()
    health.poll(st, force=True)
    print('TIMEOUT progress %.3f peers %d' % (st.progress, st.num_peers), flush=True)
    return 1


class Listed:
    """Connects to the peers of --peers, and again every 5 s to those not
    connected (a peer is connected when its address is, or, for an address
    listed once, any connection from its IP: incoming ones come from other
    ports)."""

    def __init__(self, h, peers):
        self.h, self.last = h, 0
        self.peers = [hp(p) for p in (peers or '').split(',') if p.strip()]
        self.once = set(ip for ip, _ in self.peers if [q for q, _ in self.peers].count(ip) == 1)

    def poll(self):
        if not self.peers or time.time() - self.last < 5:
            return
        self.last = time.time()
        eps = set(tuple(p.ip) for p in self.h.get_peer_info())
        ips = set(ip for ip, _ in eps)
        for ip, port in self.peers:
            if (ip, port) not in eps and not (ip in self.once and ip in ips):
                self.h.connect_peer((ip, port))


class Progress:
    """Prints 'PROGRESS <seconds> <bytes done> <peers>' every --progress
    seconds (0: never)."""

    def __init__(self, every, t0):
        self.every, self.t0, self.last = every, t0, 0

    def poll(self, st):
        if self.every > 0 and time.time() - self.last >= self.every:
            self.last = time.time()
            print('PROGRESS %.3f %d %d' % (self.last - self.t0, st.total_wanted_done, st.num_peers), flush=True)


class Health:
    """Prints 'HEALTH <seconds> <pieces> <failed bytes> <hash fails>
    <peers>' every --health seconds (0: never): the pieces libtorrent has
    as a string of 0 and 1, its torrent_status.total_failed_bytes (bytes
    of pieces that failed the hash check) and the hash_failed_alerts seen."""

    def __init__(self, every, t0):
        self.every, self.t0, self.last, self.fails = every, t0, 0, 0

    def alert(self, al):
        if isinstance(al, lt.hash_failed_alert):
            self.fails += 1

    def poll(self, st, force=False):
        if self.every > 0 and (force or time.time() - self.last >= self.every):
            self.last = time.time()
            pieces = ''.join('1' if x else '0' for x in st.pieces) or '-'
            print('HEALTH %.3f %s %d %d %d' % (self.last - self.t0, pieces, st.total_failed_bytes, self.fails, st.num_peers), flush=True)


def wait_file(path, seconds):
    """Waits until path exists (--wait-file), at most seconds."""
    end = time.time() + seconds
    while path and not os.path.exists(path) and time.time() < end:
        time.sleep(0.005)


def stay(ses, end):
    """Keeps seeding after DONE until end (--stay)."""
    while time.time() < end:
        time.sleep(0.2)
        ses.pop_alerts()
def flush(ses, h, timeout):
    """Waits until every write of h has reached its files."""
    h.flush_cache()
    end = time.time() + timeout
    while time.time() < end:
        for al in ses.pop_alerts():
            if isinstance(al, lt.cache_flushed_alert):
                return True
        time.sleep(0.01)
    return False


def lt_keypair(seed_hex):
    """libtorrent's ed25519 key pair for a 32-byte seed: the public key, and
    the 64-byte secret key of the ed25519 reference code (SHA-512 of the
    seed, clamped)."""
    import hashlib
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    seed = bytes.fromhex(seed_hex)
    pub = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    sk = bytearray(hashlib.sha512(seed).digest())
    sk[0] &= 248
    sk[31] &= 63
    sk[31] |= 64
    return pub, bytes(sk)


def dht_items(ses, a, start, state):
    """BEP 44 puts (once, after --put-delay) and gets (each call)."""
    salt = bytes.fromhex(a.salt or '')
    if not state.get('put') and time.time() - start >= a.put_delay:
        state['put'] = True
        if a.put_immutable:
            ses.dht_put_immutable_item(a.put_immutable.encode())
        if a.put_mutable:
            pub, sk = lt_keypair(a.key)
            ses.dht_put_mutable_item(sk, pub, a.put_mutable.encode(), salt)
    if a.get_immutable:
        ses.dht_get_immutable_item(lt.sha1_hash(bytes.fromhex(a.get_immutable)))
    if a.get_mutable:
        get_salt = salt if a.get_salt is None else bytes.fromhex(a.get_salt)
        ses.dht_get_mutable_item(bytes.fromhex(a.get_mutable), get_salt)


def item_alert(al, seen):
    """Prints what a BEP 44 alert reports; seen dedupes."""
    if isinstance(al, lt.dht_put_alert):
        key, salt = (x if isinstance(x, bytes) else x.encode() for x in (al.public_key, al.salt))
        if any(key):
            print('PUTMUT %s %s %d %d' % (key.hex(), salt.hex(), al.seq, al.num_success), flush=True)
        else:
            print('PUT %s %d' % (al.target, al.num_success), flush=True)
        return
    if not isinstance(al, (lt.dht_immutable_item_alert, lt.dht_mutable_item_alert)):
        return
    if '<uninitialized>' in al.message():  # nothing found
        return
    try:
        value = lt.bencode(al.item['value']).hex()
    except RuntimeError:  # libtorrent 2.0.8's binding cannot convert a dictionary value
        value = '-'
    if isinstance(al, lt.dht_immutable_item_alert):
        line = 'ITEM %s %s' % (al.target, value)
    else:
        salt = al.salt if isinstance(al.salt, bytes) else al.salt.encode()
        line = 'MUTABLE %s %s %d %s %s' % (al.key.hex(), salt.hex(), al.seq, al.signature.hex(), value)
    if line not in seen:
        seen.add(line)
        print(line, flush=True)


def cmd_dht(a):
    ses = session(a.port, a.ip, a.bootstrap)
    counter = QueryCounter(a.count_queries)
    if a.count_queries:
        ses.apply_settings({'dht_block_ratelimit': 1000000, 'alert_queue_size': 1000000})
    wait_listen(ses)
    start = time.time()
    end = start + a.seconds
    items, seen = {}, set()
    found = set()
    th = None
    if a.announce:
        p = lt.parse_magnet_uri('magnet:?xt=urn:btih:' + a.announce)
        p.save_path = tempfile.gettempdir()
        p.flags |= lt.torrent_flags.upload_mode
        th = ses.add_torrent(p)
    while time.time() < end:
        if th is not None:
            th.force_dht_announce()
        if a.get:
            ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(a.get)))
        dht_items(ses, a, start, items)
        time.sleep(1)
        ses.post_dht_stats()
        for al in ses.pop_alerts():
            counter.alert(al)
            item_alert(al, seen)
            if isinstance(al, lt.dht_stats_alert):
                n = sum(b['num_nodes'] for b in al.routing_table)
                print('NODES', n, flush=True)
            elif isinstance(al, lt.dht_get_peers_reply_alert):
                for p in al.peers():
                    if p not in found:
                        found.add(p)
                        print('PEER ' + endpoint(*p), flush=True)
        counter.tick()
    return 0


def cmd_seedmany(a):
    start = time.time()
    ses = session(a.port, a.ip, a.dht, dht=bool(a.dht))
    # As a user seeding many torrents would set it: none queued, all on
    # the DHT; alerts limited to what is read here.
    ses.apply_settings({
        'active_limit': 100000, 'active_seeds': 100000, 'active_downloads': 100000,
        'active_dht_limit': 100000, 'active_tracker_limit': 100000, 'active_lsd_limit': 100000,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    })
    wait_listen(ses)
    names = sorted(n for n in os.listdir(a.torrentdir) if n.endswith('.torrent'))
    waiting = [add(ses, os.path.join(a.torrentdir, n), a.dir, seed=True) for n in names]
    print('ADDED %d %.3f' % (len(names), time.time() - start), flush=True)
    end = start + a.seconds
    while waiting and time.time() < end:
        waiting = [h for h in waiting if not h.status().is_seeding]
        if waiting:
            time.sleep(0.05)
    if not waiting:
        print('ALLSEEDING %d %.3f' % (len(names), time.time() - start), flush=True)
    while time.time() < end:
        time.sleep(1)
        ses.pop_alerts()
    return 0


class QueryCounter:
    """Counts the DHT queries other nodes send (dht --count-queries)."""

    def __init__(self, on):
        self.on, self.sec, self.n = on, 0, {}

    def alert(self, al):
        if not self.on:
            return
        if isinstance(al, lt.dht_get_peers_alert):
            self.bump('get_peers')
        elif isinstance(al, lt.dht_announce_alert):
            self.bump('announce_peer')
        elif isinstance(al, lt.dht_pkt_alert) and '<==' in al.message():
            self.bump('packets_in')

    def tick(self):
        """Prints the counts of a second that has ended."""
        if int(time.time()) != self.sec:
            self.flush()

    def bump(self, k):
        sec = int(time.time())
        if sec != self.sec:
            self.flush()
            self.sec = sec
        self.n[k] = self.n.get(k, 0) + 1

    def flush(self):
        if self.n:
            print('QUERIES %d get_peers=%d announce_peer=%d packets_in=%d' % (
                self.sec, self.n.get('get_peers', 0), self.n.get('announce_peer', 0),
                self.n.get('packets_in', 0)), flush=True)
        self.n = {}


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest='cmd', required=True)
    c = sp.add_parser('create'); c.add_argument('path'); c.add_argument('out')
    c.add_argument('--piece-length', type=int); c.add_argument('--nodes')
    c.add_argument('--tracker', action='append'); c.add_argument('--private', action='store_true')
    c.add_argument('--pad', action='store_true', help='BEP 47 pad files: canonical_files layout')
    i = sp.add_parser('info'); i.add_argument('torrent')
    i.add_argument('--attrs', action='store_true', help="also print each file's BEP 47 flags")
    s = sp.add_parser('seed'); s.add_argument('torrent'); s.add_argument('dir')
    s.add_argument('--check', action='store_true', help='verify the data first instead of seed mode')
    s.add_argument('--rate', type=int, default=0, help='upload limit in bytes/s (0: none)')
    d = sp.add_parser('download'); d.add_argument('torrent'); d.add_argument('dir')
    d.add_argument('--peer')
    d.add_argument('--peers', help='h:p,h:p: connect to each, again every 5 s while not connected')
    d.add_argument('--stay', action='store_true', help='keep seeding after DONE until --seconds end')
    d.add_argument('--poll', type=float, default=0.01, help='seconds between status polls')
    d.add_argument('--progress', type=float, default=0, help="print 'PROGRESS' lines every S seconds (0: never)")
    d.add_argument('--health', type=float, default=0, help="print 'HEALTH' lines every S seconds (0: never)")
    d.add_argument('--wait-file', help='once listening, wait until this file exists before adding the torrent')
    s.add_argument('--print-uploads', action='store_true', help="print 'UPLOAD <piece> <block>' per block sent")
    d.add_argument('--flush', action='store_true', help='print DONE once the data is written to the files')
    d.add_argument('--down-rate', type=int, default=0, help="the torrent's download limit in bytes/s (0: none)")
    d.add_argument('--up-rate', type=int, default=0, help="the torrent's upload limit in bytes/s (0: none)")
    h = sp.add_parser('dht'); h.add_argument('--bootstrap'); h.add_argument('--announce'); h.add_argument('--get')
    h.add_argument('--put-immutable'); h.add_argument('--put-mutable'); h.add_argument('--key', help='ed25519 seed, hex')
    h.add_argument('--salt', help='hex'); h.add_argument('--put-delay', type=float, default=3)
    h.add_argument('--get-immutable'); h.add_argument('--get-mutable', help='public key, hex')
    h.add_argument('--get-salt', help="hex; the salt of --get-mutable, when not --salt's")
    h.add_argument('--count-queries', action='store_true', help="print 'QUERIES' lines: queries received per second")
    m = sp.add_parser('seedmany'); m.add_argument('torrentdir'); m.add_argument('dir')
    m.add_argument('--dht')
    for p in (s, d):
        p.add_argument('--dht')
        p.add_argument('--lean', action='store_true', help='post only the alerts this script reads')
        p.add_argument('--lsd', action='store_true', help='local service discovery on the --ip interface (namespaces only)')
        p.add_argument('--lsd-interval', type=int, default=0,
                       help="seconds between a torrent's LSD announces (0: libtorrent's 300)")
        p.add_argument('--bind-outgoing', action='store_true', help='outgoing connections from --ip too')
        p.add_argument('--print-peers', action='store_true', help="print peers' client names")
        p.add_argument('--utp', action='store_true', help='peer connections over uTP only (TCP off)')
        p.add_argument('--utp-too', action='store_true', help="uTP as well as TCP (libtorrent's defaults)")
        p.add_argument('--no-pex', action='store_true', help="ignore the peers PEX (ut_pex) tells of")
    for p in (s, d, h, m):
        p.add_argument('--port', type=int, required=True)
        p.add_argument('--ip', default='127.0.0.1', help='loopback address to bind (127.0.0.0/8 or ::1)')
        p.add_argument('--seconds', type=float, default=60)
    a = ap.parse_args()
    return {'create': cmd_create, 'info': cmd_info, 'seed': cmd_seed, 'download': cmd_download, 'dht': cmd_dht, 'seedmany': cmd_seedmany}[a.cmd](a) or 0


if __name__ == '__main__':
    sys.exit(main())
