#!/usr/bin/python3
"""A raw BEP 44 client for Swarmdrop's tests: it puts one mutable item,
signed with python3-cryptography (OpenSSL's ed25519, not ours), on the DHT
nodes named, by hand: a get for a token, then a put, to each node. Loopback
only: it binds --ip and talks to the nodes given, nothing else.

  bep44put.py --ip A --nodes h:p,h:p --seed HEX --salt HEX --seq N --value HEX [--cas N]

--seed is the 32-byte ed25519 seed, --value the bencoded value (hex). Each
node gets up to 3 tries of 1 second. Output lines: 'STORED h:p' or
'REFUSED h:p <code> <message>' or 'NOANSWER h:p', then 'TARGET <hex>'.
"""
import argparse, hashlib, os, socket, sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def benc(x):
    """Bencodes bytes, int, list and dict (bytes keys); Raw stays as is."""
    if isinstance(x, Raw):
        return x.b
    if isinstance(x, int):
        return b'i%de' % x
    if isinstance(x, bytes):
        return b'%d:%s' % (len(x), x)
    if isinstance(x, list):
        return b'l' + b''.join(benc(v) for v in x) + b'e'
    if isinstance(x, dict):
        return b'd' + b''.join(benc(k) + benc(x[k]) for k in sorted(x)) + b'e'
    raise TypeError(type(x))


class Raw:
    """Bytes already bencoded (an item's value, verbatim)."""

    def __init__(self, b):
        self.b = b


def bdec(b, i=0):
    """Decodes one value at b[i:]; returns it and the index after it."""
    c = b[i:i + 1]
    if c == b'i':
        j = b.index(b'e', i)
        return int(b[i + 1:j]), j + 1
    if c in (b'l', b'd'):
        i += 1
        out = [] if c == b'l' else {}
        while b[i:i + 1] != b'e':
            v, i = bdec(b, i)
            if c == b'l':
                out.append(v)
            else:
                out[v], i = bdec(b, i)
        return out, i + 1
    j = b.index(b':', i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


def hostport(s):
    h, p = s.strip().rsplit(':', 1)
    return h.strip('[]'), int(p)


def call(sock, addr, q, args, tid):
    """Sends query q and returns the reply's dict (y r or e), or None."""
    msg = benc({b'a': args, b'q': q, b't': tid, b'y': b'q'})
    for _ in range(3):
        sock.sendto(msg, addr)
        sock.settimeout(1)
        try:
            while True:
                data, frm = sock.recvfrom(65536)
                m, _ = bdec(data)
                if frm[:2] == addr and m.get(b't') == tid and m.get(b'y') in (b'r', b'e'):
                    return m
        except (socket.timeout, ValueError, KeyError, AttributeError):
            continue
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--ip', default='127.0.0.1')
    ap.add_argument('--nodes', required=True)
    ap.add_argument('--seed', required=True)
    ap.add_argument('--salt', default='')
    ap.add_argument('--seq', type=int, required=True)
    ap.add_argument('--value', required=True)
    ap.add_argument('--cas', type=int)
    a = ap.parse_args()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(a.seed))
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    salt, value = bytes.fromhex(a.salt), bytes.fromhex(a.value)
    signed = (b'4:salt' + benc(salt) if salt else b'') + b'3:seqi%de1:v' % a.seq + value
    sig = key.sign(signed)
    target = hashlib.sha1(pub + salt).digest()
    my_id = os.urandom(20)
    sock = socket.socket(socket.AF_INET6 if ':' in a.ip else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((a.ip, 0))
    for n, node in enumerate(a.nodes.split(',')):
        addr = hostport(node)
        r = call(sock, addr, b'get', {b'id': my_id, b'target': target}, b'g%d' % n)
        if r is None or b'token' not in r.get(b'r', {}):
            print('NOANSWER %s' % node, flush=True)
            continue
        args = {b'id': my_id, b'k': pub, b'seq': a.seq, b'sig': sig, b'token': r[b'r'][b'token'], b'v': Raw(value)}
        if salt:
            args[b'salt'] = salt
        if a.cas is not None:
            args[b'cas'] = a.cas
        r = call(sock, addr, b'put', args, b'p%d' % n)
        if r is None:
            print('NOANSWER %s' % node, flush=True)
        elif r[b'y'] == b'e':
            e = r[b'e']
            print('REFUSED %s %d %s' % (node, e[0], e[1].decode('utf-8', 'replace') if len(e) > 1 else ''), flush=True)
        else:
            print('STORED %s' % node, flush=True)
    print('TARGET %s' % target.hex(), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
