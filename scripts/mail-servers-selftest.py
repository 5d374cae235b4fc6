#!/usr/bin/env python3
"""End-to-end check of the servers started by `mail-servers.sh start DIR`.

Usage: mail-servers-selftest.py DIR   (or: mail-servers.sh selftest DIR)
Uses only the standard library (smtplib, imaplib, ssl). Prints one line per
check and closes with "N passed, N failed"; exit status 1 if any failed.
"""
import email
import imaplib
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import uuid

DIR = os.path.abspath(sys.argv[1])
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mail-servers.sh")
ENV = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(DIR, "env")) if "=" in l)
HOST = ENV["MAIL_HOST"]
NAME = ENV["MAIL_TLS_NAME"]
CTX = ssl.create_default_context(cafile=ENV["MAIL_CA_CERT"])  # verifies chain + host name
PW = lambda u: ENV["MAIL_PASSWORD_" + u]
results = []


def check(name):
    def wrap(fn):
        t0 = time.time()
        try:
            detail = fn() or ""
            results.append(True)
            print("ok    %-58s %5.2fs %s" % (name, time.time() - t0, detail))
        except Exception as e:  # noqa: BLE001 — report every failure and go on
            results.append(False)
            print("FAIL  %-58s %5.2fs %r" % (name, time.time() - t0, e))
        return fn
    return wrap


def msg(frm, to, token):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: selftest {token}\r\n"
            f"Message-ID: <{token}@selftest.example.org>\r\n\r\nbody {token}\r\n")


def smtp_starttls(port=None):
    s = smtplib.SMTP(HOST, int(port or ENV["MAIL_SMTP_PORT"]), local_hostname="client.example.org", timeout=20)
    s._host = NAME  # the name to verify the certificate against
    s.starttls(context=CTX)
    return s


def imaps(user, login=None):
    m = imaplib.IMAP4_SSL(HOST, int(ENV["MAIL_IMAPS_PORT"]), ssl_context=CTX, timeout=20) \
        if sys.version_info >= (3, 9) else imaplib.IMAP4_SSL(HOST, int(ENV["MAIL_IMAPS_PORT"]), ssl_context=CTX)
    m.login(login or user, PW(user))
    return m


def wait_for(user, token, timeout=15):
    """Poll user's INBOX over IMAPS until a message whose subject has token shows up."""
    deadline = time.time() + timeout
    while True:
        m = imaps(user)
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", token)
        ids = data[0].split()
        if ids:
            typ, raw = m.fetch(ids[0], "(RFC822)")
            m.logout()
            return email.message_from_bytes(raw[0][1]), len(ids)
        m.logout()
        if time.time() > deadline:
            raise AssertionError(f"{token} not in {user}'s INBOX after {timeout}s")
        time.sleep(0.2)


def rcpt_code(to, port=None, auth=True):
    s = smtp_starttls(port)
    if auth:
        s.login("pulse", PW("pulse"))
    s.mail("pulse@example.org")
    code, text = s.rcpt(to)
    s.quit()
    return code, text.decode()


def ms(*args):
    subprocess.run(["bash", SCRIPT, args[0], DIR, *args[1:]], check=True)


T = uuid.uuid4().hex[:10]


@check("SMTP STARTTLS (CA-verified) + AUTH pulse → alice@, pulse+abc@")
def _():
    s = smtp_starttls()
    s.login("pulse", PW("pulse"))
    s.sendmail("pulse@example.org", ["alice@example.org"], msg("pulse@example.org", "alice@example.org", "a" + T))
    s.sendmail("pulse@example.org", ["pulse+abc@example.org"], msg("alice@example.org", "pulse+abc@example.org", "p" + T))
    s.quit()


@check("IMAPS alice: message arrived")
def _():
    m, n = wait_for("alice", "a" + T)
    assert n == 1, n
    return "Message-ID " + m["Message-ID"]


@check("IMAPS pulse: plus-address pulse+abc@ landed in pulse's INBOX")
def _():
    m, n = wait_for("pulse", "p" + T)
    assert n == 1 and m["To"] == "pulse+abc@example.org"
    return "Delivered-To " + str(m["Delivered-To"])


@check("submission port: STARTTLS required, AUTH, send → maya@")
def _():
    s = smtplib.SMTP(HOST, int(ENV["MAIL_SUBMISSION_PORT"]), timeout=20)
    s.ehlo()
    assert "auth" not in s.esmtp_features, "AUTH offered before STARTTLS"
    s.mail("pulse@example.org")
    code, _ = s.rcpt("maya@example.org")
    assert code >= 500, f"unauthenticated RCPT accepted ({code})"
    s.rset()
    s._host = NAME
    s.starttls(context=CTX)
    s.login("pulse@example.org", PW("pulse"))
    s.sendmail("pulse@example.org", ["maya@example.org"], msg("pulse@example.org", "maya@example.org", "s" + T))
    s.quit()
    wait_for("maya", "s" + T)


@check("SMTPS implicit TLS + AUTH → bruno@")
def _():
    s = smtplib.SMTP_SSL(HOST, int(ENV["MAIL_SMTPS_PORT"]), context=CTX, timeout=20)
    s.login("pulse", PW("pulse"))
    s.sendmail("pulse@example.org", ["bruno@example.org"], msg("pulse@example.org", "bruno@example.org", "i" + T))
    s.quit()
    wait_for("bruno", "i" + T)


@check("SMTP plain (no TLS, no AUTH) to @example.org accepted, like an MX")
def _():
    s = smtplib.SMTP(HOST, int(ENV["MAIL_SMTP_PORT"]), timeout=20)
    s.sendmail("alice@example.org", ["pulse@example.org"], msg("alice@example.org", "pulse@example.org", "m" + T))
    s.quit()
    wait_for("pulse", "m" + T)


@check("IMAP STARTTLS on MAIL_IMAP_PORT, login as user@example.org")
def _():
    m = imaplib.IMAP4(HOST, int(ENV["MAIL_IMAP_PORT"]))
    m.starttls(ssl_context=CTX)
    m.login("alice@example.org", PW("alice"))
    typ, data = m.select("INBOX")
    m.logout()
    return f"{int(data[0])} message(s)"


@check("IMAP IDLE: capability advertised and new mail pushed (EXISTS)")
def _():
    m = imaps("tom")
    assert "IDLE" in m.capabilities, m.capabilities
    m.select("INBOX")
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+"), "no IDLE continuation"
    t0 = time.time()
    s = smtplib.SMTP(HOST, int(ENV["MAIL_SMTP_PORT"]), timeout=20)
    s.sendmail("pulse@example.org", ["tom@example.org"], msg("pulse@example.org", "tom@example.org", "d" + T))
    s.quit()
    m.sock.settimeout(15)
    while True:
        line = m.readline()
        if b"EXISTS" in line:
            break
    took = time.time() - t0
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag):
        pass
    m.logout()
    return "pushed %.2fs after send" % took


@check("wrong password: SMTP AUTH 535, IMAP LOGIN NO")
def _():
    s = smtp_starttls()
    try:
        s.login("pulse", "wrong-password")
        raise AssertionError("SMTP AUTH accepted a wrong password")
    except smtplib.SMTPAuthenticationError as e:
        assert e.smtp_code == 535, e
    s.quit()
    m = imaplib.IMAP4_SSL(HOST, int(ENV["MAIL_IMAPS_PORT"]), ssl_context=CTX)
    try:
        m.login("pulse", "wrong-password")
        raise AssertionError("IMAP accepted a wrong password")
    except imaplib.IMAP4.error as e:
        return str(e)[:60]


@check("defer-me@ → 451, reject-me@ → 550, nobody@ → 550, outside domain → 554")
def _():
    got = [rcpt_code(a)[0] for a in
           ("defer-me@example.org", "reject-me@example.org", "nobody@example.org", "someone@elsewhere.test")]
    assert got == [451, 550, 550, 554], got
    return str(got)


@check("rule 'defer ADDR 2': 451, 451, then accepted and delivered once")
def _():
    ms("defer", "tom@example.org", "2")
    try:
        codes = []
        for _ in range(3):
            s = smtp_starttls()
            s.mail("pulse@example.org")
            c, _t = s.rcpt("tom@example.org")
            codes.append(c)
            if c == 250:
                s.data(msg("pulse@example.org", "tom@example.org", "r" + T))
            s.quit()
        assert codes == [451, 451, 250], codes
        _m, n = wait_for("tom", "r" + T)
        assert n == 1
        return str(codes)
    finally:
        ms("allow", "tom@example.org")


@check("rule 'reject ADDR' then 'allow ADDR' on one open connection")
def _():
    s = smtp_starttls()
    ms("reject", "bruno@example.org")
    s.mail("pulse@example.org")
    c1, _ = s.rcpt("bruno@example.org")
    s.rset()
    ms("allow", "bruno@example.org")
    s.mail("pulse@example.org")
    c2, _ = s.rcpt("bruno@example.org")
    s.quit()
    assert (c1, c2) == (550, 250), (c1, c2)
    return str((c1, c2))


def pipe_attempts():
    try:
        return open(os.path.join(DIR, "pipe", "attempts.log")).read().splitlines()
    except FileNotFoundError:
        return []


@check("pipe transport: exit 75 → Postfix defers and retries; then exit 0 → once")
def _():
    pipe_dir = os.path.join(DIR, "pipe")
    before = len(pipe_attempts())
    saved_before = {f for f in os.listdir(pipe_dir) if f.endswith(".eml")}
    ms("pipe-exit", "75")
    s = smtplib.SMTP(HOST, int(ENV["MAIL_SMTP_PORT"]), timeout=20)
    s.sendmail("alice@example.org", ["ingest+k123@example.org"],
               msg("alice@example.org", "ingest+k123@example.org", "x" + T))
    s.quit()
    deadline = time.time() + 30
    while len([a for a in pipe_attempts()[before:] if "exit=75" in a]) < 2:  # a retry happened
        assert time.time() < deadline, pipe_attempts()[before:]
        time.sleep(0.5)
    ms("pipe-exit", "0")
    deadline = time.time() + 40
    while not any("exit=0" in a for a in pipe_attempts()[before:]):
        assert time.time() < deadline, pipe_attempts()[before:]
        time.sleep(0.5)
    time.sleep(1)
    new = [f for f in os.listdir(pipe_dir) if f.endswith(".eml") and f not in saved_before]
    assert len(new) == 1, new
    body = open(os.path.join(pipe_dir, new[0])).read()
    assert "x" + T in body and "Return-Path: <alice@example.org>" in body
    assert "Delivered-To: ingest+k123@example.org" in body
    tries = [a.split()[-1] for a in pipe_attempts()[before:]]
    return "attempts: " + " ".join(tries) + "; argv recipient: " + pipe_attempts()[-1].split()[1]


@check("pipe transport: exit 65 → Postfix bounces to the sender (seen in alice's INBOX)")
def _():
    ms("pipe-exit", "65")
    try:
        s = smtplib.SMTP(HOST, int(ENV["MAIL_SMTP_PORT"]), timeout=20)
        s.sendmail("alice@example.org", ["ingest+k65@example.org"],
                   msg("alice@example.org", "ingest+k65@example.org", "b" + T))
        s.quit()
        deadline = time.time() + 20
        while True:
            m = imaps("alice")
            m.select("INBOX")
            _t, data = m.search(None, "FROM", "MAILER-DAEMON", "BODY", "b" + T)
            m.logout()
            if data[0].split():
                return "bounce delivered to the sender"
            assert time.time() < deadline, "no bounce"
            time.sleep(0.5)
    finally:
        ms("pipe-exit", "0")


passed, failed = results.count(True), results.count(False)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
