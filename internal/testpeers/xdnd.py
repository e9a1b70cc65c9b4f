#!/usr/bin/python3
"""A drag-and-drop SOURCE for tests: drops files on an X window the way a
file manager does, with the XDND protocol (version 5,
https://www.freedesktop.org/wiki/Specifications/XDND/). Needs python3-xlib
(Debian package python3-xlib), run with /usr/bin/python3, and DISPLAY.

  xdnd.py --window WID --x X --y Y PATH...

WID is the target window (e.g. from `xdotool search --name '^Swarmdrop$'`);
X and Y are the drop point in that window's coordinates. The messages go to
the window carrying XdndAware: WID itself, an ancestor, or a descendant.

What happens: an unmapped 1x1 source window owns the XdndSelection; the
target gets XdndEnter (types: text/uri-list), then XdndPosition; once its
XdndStatus accepts, XdndDrop. The target's SelectionRequest for
text/uri-list is answered with 'file:///abs/path' lines (percent-encoded,
CRLF-terminated). Exit 0 when the target's XdndFinished reports success;
otherwise 1 with a message on stderr naming the step that failed (2 for
usage errors). Each wait is bounded by --timeout seconds (default 5).
"""
import argparse
import os
import select
import sys
import time
import urllib.parse

from Xlib import X, Xatom, display, error
from Xlib.protocol import event

VERSION = 5


class DropError(Exception):
    """A step of the drop failed; the message says which."""


def uri_list(paths):
    """The text/uri-list body for paths: one file:// URI per line."""
    lines = []
    for p in paths:
        a = os.path.abspath(p)
        lines.append('file://' + urllib.parse.quote(a, safe='/') + '\r\n')
    return ''.join(lines).encode('utf-8')


class Source:
    """One drag: the source window and the atoms it speaks."""

    def __init__(self, d, timeout):
        self.d = d
        self.timeout = timeout
        self.root = d.screen().root
        a = lambda name: d.intern_atom(name)
        self.aware, self.type_list = a('XdndAware'), a('XdndTypeList')
        self.selection, self.proxy = a('XdndSelection'), a('XdndProxy')
        self.enter, self.position = a('XdndEnter'), a('XdndPosition')
        self.status, self.drop = a('XdndStatus'), a('XdndDrop')
        self.leave, self.finished = a('XdndLeave'), a('XdndFinished')
        self.copy, self.uris = a('XdndActionCopy'), a('text/uri-list')
        self.win = self.root.create_window(-10, -10, 1, 1, 0, X.CopyFromParent,
                                           event_mask=X.PropertyChangeMask)
        self.win.change_property(self.aware, Xatom.ATOM, 32, [VERSION])
        self.win.change_property(self.type_list, Xatom.ATOM, 32, [self.uris])
        d.sync()

    def aware_version(self, w):
        """The XdndAware version of window w, or None."""
        try:
            p = w.get_full_property(self.aware, Xatom.ATOM)
        except error.BadWindow:
            return None
        if p is None or len(p.value) == 0:
            return None
        return int(p.value[0])

    def find_target(self, wid):
        """The window with XdndAware at or around wid, and its version."""
        w = self.d.create_resource_object('window', wid)
        try:
            w.get_geometry()
        except (error.BadDrawable, error.BadWindow):
            raise DropError('there is no window 0x%x' % wid)
        # Up to the root first: a window manager may have reparented it.
        cur = w
        while True:
            v = self.aware_version(cur)
            if v is not None:
                return cur, v
            tree = cur.query_tree()
            if tree.parent == 0 or tree.parent.id == self.root.id:
                break
            cur = tree.parent
        # Then down, breadth first.
        queue = list(w.query_tree().children)
        while queue:
            c = queue.pop(0)
            if c.id == self.win.id:
                continue
            v = self.aware_version(c)
            if v is not None:
                return c, v
            queue.extend(c.query_tree().children)
        raise DropError('no window at or around 0x%x has XdndAware: the target does not accept drops' % wid)

    def server_time(self):
        """A server timestamp, from a property change on our window."""
        atom = self.d.intern_atom('XDND_TEST_TIMESTAMP')
        self.win.change_property(atom, Xatom.STRING, 8, b'')
        self.d.flush()
        ev = self.next_event('a timestamp (PropertyNotify)',
                             lambda e: e.type == X.PropertyNotify and e.atom == atom)
        return ev.time

    def send(self, target, message_type, data):
        ev = event.ClientMessage(window=target, client_type=message_type,
                                 data=(32, (data + [0] * 5)[:5]))
        target.send_event(ev, event_mask=X.NoEventMask)
        self.d.flush()

    def next_event(self, what, want, on_other=None):
        """Waits for an event that want() accepts; on_other sees the rest."""
        deadline = time.monotonic() + self.timeout
        while True:
            while self.d.pending_events():
                ev = self.d.next_event()
                if want(ev):
                    return ev
                if on_other:
                    on_other(ev)
            left = deadline - time.monotonic()
            if left <= 0:
                raise DropError('timed out after %.1f s waiting for %s' % (self.timeout, what))
            select.select([self.d.fileno()], [], [], left)

    def answer(self, ev, body):
        """Answers a SelectionRequest: the uri list, or a refusal."""
        if ev.type != X.SelectionRequest or ev.selection != self.selection:
            return
        prop = ev.property or ev.target  # obsolete requestors leave it None
        if ev.target == self.uris:
            ev.requestor.change_property(prop, self.uris, 8, body)
        else:
            prop = X.NONE
        reply = event.SelectionNotify(time=ev.time, requestor=ev.requestor, selection=ev.selection,
                                      target=ev.target, property=prop)
        ev.requestor.send_event(reply, event_mask=X.NoEventMask)
        self.d.flush()
        self.served = self.served or prop != X.NONE

    def run(self, wid, x, y, paths):
        body = uri_list(paths)
        target, version = self.find_target(wid)
        version = min(version, VERSION)
        t = self.server_time()
        self.win.set_selection_owner(self.selection, t)
        self.d.flush()
        if self.d.get_selection_owner(self.selection).id != self.win.id:
            raise DropError('could not own the XdndSelection')
        w = self.d.create_resource_object('window', wid)
        pos = w.translate_coords(self.root, x, y)  # wid's (x, y) on the root
        rx, ry = pos.x, pos.y
        self.send(target, self.enter, [self.win.id, version << 24, self.uris])
        self.send(target, self.position, [self.win.id, 0, (rx << 16) | ry, t, self.copy])
        self.served = False
        st = self.next_event('XdndStatus from window 0x%x' % target.id,
                             lambda e: e.type == X.ClientMessage and e.client_type == self.status,
                             lambda e: self.answer(e, body))
        if not st.data[1][1] & 1:
            self.send(target, self.leave, [self.win.id])
            raise DropError('window 0x%x refused the drop (XdndStatus without the accept bit)' % target.id)
        self.send(target, self.drop, [self.win.id, 0, t])
        fin = self.next_event('XdndFinished from window 0x%x (the target %s the uri list)' %
                              (target.id, 'fetched' if self.served else 'never asked for'),
                              lambda e: e.type == X.ClientMessage and e.client_type == self.finished,
                              lambda e: self.answer(e, body))
        if not self.served:
            raise DropError('the target finished without fetching the uri list')
        # Version 5 puts success in bit 0 of l[1]; GLFW puts the number of
        # bytes it read there instead, so any non-zero value is success.
        if version >= 5 and fin.data[1][1] == 0:
            raise DropError('window 0x%x reports the drop failed (XdndFinished without success)' % target.id)
        return target.id


def main():
    ap = argparse.ArgumentParser(description='Drop files on an X window with XDND.')
    ap.add_argument('--window', required=True, help='target window id (decimal or 0x hex)')
    ap.add_argument('--x', type=int, required=True, help='drop point, in the window')
    ap.add_argument('--y', type=int, required=True, help='drop point, in the window')
    ap.add_argument('--timeout', type=float, default=5.0, help='seconds to wait for each answer')
    ap.add_argument('paths', nargs='+', metavar='PATH')
    args = ap.parse_args()
    try:
        wid = int(args.window, 0)
    except ValueError:
        ap.error('--window %r is not a window id' % args.window)
    for p in args.paths:
        if not os.path.exists(p):
            ap.error('%s does not exist' % p)
    try:
        d = display.Display()
    except Exception as e:  # no DISPLAY, or the server refused us
        print('xdnd.py: cannot open the display: %s' % e, file=sys.stderr)
        return 1
    try:
        target = Source(d, args.timeout).run(wid, args.x, args.y, args.paths)
    except (DropError, error.XError) as e:
        print('xdnd.py: %s' % e, file=sys.stderr)
        return 1
    finally:
        d.close()
    print('DROPPED %d path(s) on 0x%x' % (len(args.paths), target), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
