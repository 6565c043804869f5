"""A capturing SMTP server for tests and benchmarks (run by eng/smtp.sh; Debian's python3-aiosmtpd).

Every message it accepts is written to DIR/messages/NNNNNNNN.json: {"mail_from", "rcpt_tos", "data"} (data is the
raw message as received). It listens on 127.0.0.1 on PORT (0: any free port) and writes the port it got to
DIR/port once it accepts connections. It advertises PIPELINING.

Faults are injected per run through DIR/faults.json, read again at every command (missing or empty: no faults).
Counters start again from zero whenever the file's content changes. Keys (all optional):
  "refuse":          {"address": "550 5.1.1 <address>: user unknown", ...}   reply to RCPT TO for these addresses
  "mail_reply":      "550 5.7.1 Sender rejected"     reply to every MAIL FROM
  "transient_first": N                               the first N transactions get "transient_reply"...
  "transient_reply": "421 4.3.2 Try again later"     (default shown)
  "transient_at":    "mail" | "data"                 ...at MAIL FROM (default) or after DATA (message not stored)
  "drop_after":      N                               after N messages accepted, the next MAIL FROM closes the
                                                     connection without a reply (once per faults.json)
  "drop_before_reply": N                             message N+1 is stored, then the connection is closed before
                                                     the 250 reply (the client cannot know it was accepted; once)
  "delay_ms":        D                               wait D ms before answering each DATA
"""
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Capture:
    def __init__(self, folder):
        self.folder = folder
        self.messages = os.path.join(folder, "messages")
        os.makedirs(self.messages, exist_ok=True)
        self.sequence = len(os.listdir(self.messages))
        self.faults_text = None
        self.faults = {}
        self.transactions = 0
        self.accepted = 0
        self.dropped = False
        self.dropped_before_reply = False

    def read_faults(self):
        try:
            with open(os.path.join(self.folder, "faults.json"), encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        if text != self.faults_text:
            self.faults_text = text
            self.faults = json.loads(text) if text.strip() else {}
            self.transactions = self.accepted = 0
            self.dropped = self.dropped_before_reply = False
        return self.faults

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        faults = self.read_faults()
        if "drop_after" in faults and not self.dropped and self.accepted >= int(faults["drop_after"]):
            self.dropped = True
            server.transport.close()
            return "421 4.4.2 dropped"  # never reaches the client: the transport is closed
        if "mail_reply" in faults:
            return faults["mail_reply"]
        self.transactions += 1
        if faults.get("transient_at", "mail") == "mail" and self.transactions <= int(faults.get("transient_first", 0)):
            return faults.get("transient_reply", "421 4.3.2 Try again later")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.read_faults().get("refuse", {}).get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        faults = self.read_faults()
        if faults.get("delay_ms"):
            await asyncio.sleep(int(faults["delay_ms"]) / 1000)
        if faults.get("transient_at") == "data" and self.transactions <= int(faults.get("transient_first", 0)):
            return faults.get("transient_reply", "451 4.3.0 Try again later")
        data = envelope.original_content or envelope.content
        if isinstance(data, bytes):
            data = data.decode("utf-8", errors="replace")
        self.sequence += 1
        path = os.path.join(self.messages, "%08d.json" % self.sequence)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": data}, f)
        os.replace(path + ".tmp", path)  # readers never see half a file
        self.accepted += 1
        if "drop_before_reply" in faults and not self.dropped_before_reply and self.accepted > int(faults["drop_before_reply"]):
            self.dropped_before_reply = True
            server.transport.close()
        return "250 Message accepted for delivery"


async def main(folder, port):
    handler = Capture(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="capture.test", ident="capture"), "127.0.0.1", port)
    actual = server.sockets[0].getsockname()[1]
    with open(os.path.join(folder, "port.tmp"), "w") as f:
        f.write(str(actual))
    os.replace(os.path.join(folder, "port.tmp"), os.path.join(folder, "port"))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0))
