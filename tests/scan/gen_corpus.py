#!/usr/bin/env python3
"""
Labeled corpus of terminal output for the exposure scanner (issue 5): deterministic from a seed.

Realistic sessions -- shell prompts (colour, bracketed paste, window titles), env/printenv/export
dumps, `cat .env`, `kubectl get secret -o yaml|json`, `docker inspect`, git log/show/remote,
GitHub Actions and GitLab CI logs, npm/pip output, psql/mongosh/redis-cli sessions, curl -v,
key files, GCP service-account JSON, Azure CLI, config files, minified JS and HTML -- with LF or
CRLF line ends and ANSI escape codes (some secrets coloured, some highlighted grep-style with the
escape codes inside the value). Into these it plants synthetic secrets of every format the issue
lists, and around them hard negatives that must not be reported: UUIDs, SHA-1/SHA-256/git hashes,
base64 images, npm integrity hashes, minified JS with inline source maps, random hex, AWS's
documented EXAMPLE keys, public keys and certificates, placeholders and low-entropy values.

Outputs:
  corpus      the bytes (UTF-8 text with escape codes)
  --labels    JSON [{"start": s, "end": e, "format": f}]: the byte span [s, e) of each planted
              secret VALUE (for assignments and URIs: the password part only; for PEM/PGP keys:
              the armour from -----BEGIN to the closing -----). A span may contain ANSI escapes.
  --negatives JSON [{"start", "end", "kind"}] of the hard negatives (for diagnosing false hits)
  --stats     counts per format on stderr

--no-secrets writes the same kind of corpus with every planted secret replaced by a placeholder
(the labels are then empty). Only the Python standard library; the same seed and options give the
same bytes on any machine (random.Random is stable across Python versions for these calls).
"""
import argparse
import base64
import json
import string
import struct
import sys
import time
import zlib
from random import Random

DIG = string.digits
UP = string.ascii_uppercase
LOW = string.ascii_lowercase
ALNUM = UP + LOW + DIG
B62 = DIG + UP + LOW  # the order GitHub's checksum encoding uses
HEX = "0123456789abcdef"
HEXU = "0123456789ABCDEF"
B32 = UP + "234567"
B64URL = UP + LOW + DIG + "-_"
PWCH = ALNUM + ALNUM + "!#%*+-.:=?@^_~"  # generic passwords: no quotes, backslash, $, &, space
URIPW = ALNUM + ALNUM + "-._~!*+"  # URI userinfo without percent-encoding


# ---- planted values ------------------------------------------------------------------------------
class S:
    """A planted secret value: its text is the labeled span."""
    __slots__ = ("v", "fmt", "plain")

    def __init__(self, v, fmt, plain=False):
        self.v, self.fmt, self.plain = v, fmt, plain


class N:
    """A hard negative: must not be reported."""
    __slots__ = ("v", "kind")

    def __init__(self, v, kind):
        self.v, self.kind = v, kind


def rs(r, alphabet, n):
    return "".join(r.choices(alphabet, k=n))


def b62_6(n):
    s = ""
    while n:
        n, d = divmod(n, 62)
        s = B62[d] + s
    return s.rjust(6, "0")


def crc_token(r, prefix, body_len=30):
    """GitHub/npm token: prefix, 30 base62, then base62(CRC32 of those 30 chars) in 6 digits."""
    body = rs(r, B62, body_len)
    return prefix + body + b62_6(zlib.crc32(body.encode()))


def uuid4(r):
    h = "%032x" % r.getrandbits(128)
    h = h[:12] + "4" + h[13:16] + "89ab"[r.randrange(4)] + h[17:]
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def hexs(r, n):
    return "%0*x" % (n, r.getrandbits(4 * n))


def b64(data):
    return base64.b64encode(data).decode()


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- DER / PEM / OpenSSH / PGP framing with random bodies ---------------------------------------
def der_len(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return b"\x81" + bytes([n])
    return b"\x82" + n.to_bytes(2, "big")


def der(tag, *parts):
    c = b"".join(parts)
    return bytes([tag]) + der_len(len(c)) + c


def der_int(r, nbytes):
    v = bytearray(r.randbytes(nbytes))
    v[0] |= 0x80
    return der(0x02, b"\x00" + bytes(v))


OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_P256 = bytes.fromhex("06082a8648ce3d030107")
OID_P384 = bytes.fromhex("06052b81040022")
OID_ED25519 = bytes.fromhex("06032b6570")
OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
OID_HMAC256 = bytes.fromhex("06082a864886f70d0209")
OID_AES256CBC = bytes.fromhex("060960864801650304012a")
OID_P7DATA = bytes.fromhex("06092a864886f70d010701")
OID_SHA256RSA = bytes.fromhex("06092a864886f70d01010b")
NULL = b"\x05\x00"
INT0 = b"\x02\x01\x00"


def rsa_pkcs1(r, bits=2048):
    n = bits // 8
    return der(0x30, INT0, der_int(r, n), b"\x02\x03\x01\x00\x01", der_int(r, n),
               der_int(r, n // 2), der_int(r, n // 2), der_int(r, n // 2), der_int(r, n // 2),
               der_int(r, n // 2))


def ec_sec1(r, p384=False):
    k = 48 if p384 else 32
    return der(0x30, b"\x02\x01\x01", der(0x04, r.randbytes(k)),
               der(0xA0, OID_P384 if p384 else OID_P256), der(0xA1, der(0x03, b"\x00\x04" + r.randbytes(2 * k))))


def pem(label, data, headers=(), width=64):
    s = b64(data)
    h = "".join("%s: %s\n" % kv for kv in headers) + ("\n" if headers else "")
    body = "\n".join(s[i:i + width] for i in range(0, len(s), width))
    return "-----BEGIN %s-----\n%s%s\n-----END %s-----" % (label, h, body, label)


def key_rsa(r):
    return pem("RSA PRIVATE KEY", rsa_pkcs1(r, r.choice((2048, 2048, 3072, 4096))))


def key_ec(r):
    return pem("EC PRIVATE KEY", ec_sec1(r, r.random() < 0.3))


def key_pkcs8(r):
    if r.random() < 0.35:
        inner = der(0x30, INT0, der(0x30, OID_ED25519), der(0x04, der(0x04, r.randbytes(32))))
    elif r.random() < 0.5:
        inner = der(0x30, INT0, der(0x30, bytes.fromhex("06072a8648ce3d0201"), OID_P256),
                    der(0x04, ec_sec1(r)))
    else:
        inner = der(0x30, INT0, der(0x30, OID_RSA, NULL), der(0x04, rsa_pkcs1(r)))
    return pem("PRIVATE KEY", inner)


def key_encrypted(r):
    c = r.random()
    if c < 0.45:
        params = der(0x30, der(0x30, OID_PBKDF2, der(0x30, der(0x04, r.randbytes(16)),
                                                     b"\x02\x02\x08\x00", der(0x30, OID_HMAC256, NULL))),
                     der(0x30, OID_AES256CBC, der(0x04, r.randbytes(16))))
        blob = der(0x30, der(0x30, OID_PBES2, params), der(0x04, r.randbytes(r.choice((1232, 1248, 160)))))
        return pem("ENCRYPTED PRIVATE KEY", blob)
    if c < 0.75:
        algo = r.choice(("AES-128-CBC", "AES-256-CBC", "DES-EDE3-CBC"))
        iv = rs(r, HEXU, 16 if algo.startswith("DES") else 32)
        kind = r.choice(("RSA", "RSA", "EC"))
        body = r.randbytes(1200 if kind == "RSA" else 128)
        return pem(kind + " PRIVATE KEY", body, (("Proc-Type", "4,ENCRYPTED"), ("DEK-Info", algo + "," + iv)))
    return openssh_key(r, encrypted=True)


def key_dsa(r):
    return pem("DSA PRIVATE KEY", der(0x30, INT0, der_int(r, 128), der_int(r, 20), der_int(r, 128),
                                      der_int(r, 128), der_int(r, 20)))


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def openssh_key(r, encrypted=False, comment=None):
    pk = r.randbytes(32)
    pub = sshstr(b"ssh-ed25519") + sshstr(pk)
    comment = (comment or "user@host").encode()
    chk = r.randbytes(4)
    priv = chk + chk + sshstr(b"ssh-ed25519") + sshstr(pk) + sshstr(r.randbytes(32) + pk) + sshstr(comment)
    blk = 16 if encrypted else 8
    i = 1
    while len(priv) % blk:
        priv += bytes([i])
        i += 1
    if encrypted:
        head = sshstr(b"aes256-ctr") + sshstr(b"bcrypt") + sshstr(sshstr(r.randbytes(16)) + struct.pack(">I", 16))
        priv = r.randbytes(len(priv))
    else:
        head = sshstr(b"none") + sshstr(b"none") + sshstr(b"")
    data = b"openssh-key-v1\x00" + head + struct.pack(">I", 1) + sshstr(pub) + sshstr(priv)
    return pem("OPENSSH PRIVATE KEY", data, width=70)


_CRC24 = []


def crc24(data):
    if not _CRC24:
        for i in range(256):
            c = i << 16
            for _ in range(8):
                c <<= 1
                if c & 0x1000000:
                    c ^= 0x1864CFB
            _CRC24.append(c & 0xFFFFFF)
    crc = 0xB704CE
    for b in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ _CRC24[((crc >> 16) ^ b) & 0xFF]
    return crc


def pgp_block(r, private, uid):
    keylen = r.choice((900, 1800)) if private else r.choice((270, 520))
    tag = 5 if private else 6
    pkt = bytes([0x80 | (tag << 2) | 1]) + struct.pack(">H", keylen) + b"\x04" + r.randbytes(keylen - 1)
    u = uid.encode()
    pkt += bytes([0x80 | (13 << 2)]) + bytes([len(u)]) + u
    sig = r.randbytes(r.choice((310, 566)))
    pkt += bytes([0x80 | (2 << 2) | 1]) + struct.pack(">H", len(sig)) + sig
    label = "PGP PRIVATE KEY BLOCK" if private else "PGP PUBLIC KEY BLOCK"
    s = b64(pkt)
    body = "\n".join(s[i:i + 64] for i in range(0, len(s), 64))
    crc = b64(crc24(pkt).to_bytes(3, "big"))
    return "-----BEGIN %s-----\n\n%s\n=%s\n-----END %s-----" % (label, body, crc, label)


def pkcs12_b64(r):
    auth = der(0x30, OID_P7DATA, der(0xA0, der(0x04, r.randbytes(r.choice((1500, 2400, 3100))))))
    mac = der(0x30, der(0x30, der(0x30, bytes.fromhex("0609608648016503040201"), NULL), der(0x04, r.randbytes(32))),
              der(0x04, r.randbytes(8)), b"\x02\x02\x08\x00")
    return b64(der(0x30, b"\x02\x01\x03", auth, mac))


def certificate(r):
    tbs = der(0x30, der(0xA0, b"\x02\x01\x02"), der_int(r, 16), der(0x30, OID_SHA256RSA, NULL), r.randbytes(600))
    return pem("CERTIFICATE", der(0x30, tbs, der(0x30, OID_SHA256RSA, NULL), der(0x03, b"\x00" + r.randbytes(256))))


def public_key_pem(r):
    inner = der(0x30, der_int(r, 256), b"\x02\x03\x01\x00\x01")
    return pem("PUBLIC KEY", der(0x30, der(0x30, OID_RSA, NULL), der(0x03, b"\x00" + inner)))


def ssh_pub(r, user_host):
    if r.random() < 0.6:
        return "ssh-ed25519 " + b64(sshstr(b"ssh-ed25519") + sshstr(r.randbytes(32))) + " " + user_host
    return "ssh-rsa " + b64(sshstr(b"ssh-rsa") + sshstr(b"\x01\x00\x01") + sshstr(b"\x00" + r.randbytes(384))) + " " + user_host


def jwt(r, now, alg=None):
    alg = alg or r.choice(("HS256", "RS256", "RS256", "ES256"))
    hdr = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        hdr["kid"] = hexs(r, 16) if r.random() < 0.5 else b64u(r.randbytes(24))
    pl = {"sub": uuid4(r) if r.random() < 0.5 else "user_%d" % r.randrange(10 ** 6),
          "iss": r.choice(("https://auth.example.com/", "https://accounts.acme.io", "kubernetes/serviceaccount",
                           "https://login.microsoftonline.com/%s/v2.0" % uuid4(r))),
          "aud": r.choice(("api", "https://api.example.com", "account")),
          "iat": now, "exp": now + r.choice((300, 3600, 86400))}
    if r.random() < 0.5:
        pl["email"] = "%s@example.com" % r.choice(NAMES).lower()
    if r.random() < 0.4:
        pl["scope"] = r.choice(("read write", "openid profile email", "repo admin:org"))
    sig = r.randbytes({"HS256": 32, "RS256": 256, "ES256": 64}[alg])
    return ".".join((b64u(json.dumps(hdr, separators=(",", ":")).encode()),
                     b64u(json.dumps(pl, separators=(",", ":")).encode()), b64u(sig)))


# ---- the formats -------------------------------------------------------------------------------
NAMES = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
         "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yusuf", "Zoe"]
SURNAMES = ["Smith", "Nguyen", "Garcia", "Müller", "Kowalski", "Tanaka", "Okafor", "Silva", "Rossi",
            "Johansson", "Dubois", "Patel", "O'Brien", "Novak", "Haddad"]
PROJECTS = ["billing-api", "frontend", "infra", "data-pipeline", "auth-service", "mobile-backend",
            "terraform-live", "ml-platform", "payments", "search-indexer", "notifications", "web-portal"]
HOSTS = ["web-01", "api-prod-3", "bastion", "build-agent-7", "db-primary", "laptop", "ip-10-0-3-17",
         "k8s-node-2", "devbox", "ci-runner-12", "worker-5", "staging-app"]
USERS = ["alice", "bob", "deploy", "ubuntu", "ec2-user", "jenkins", "runner", "dev", "ops", "carol", "app"]
DBHOSTS = ["db.internal", "db-primary.prod.svc.cluster.local", "10.0.4.12", "postgres", "mydb.c9akciq32.us-east-1.rds.amazonaws.com",
           "pg-main.postgres.database.azure.com", "localhost", "mysql.default.svc", "cluster0.ab1cd.mongodb.net",
           "redis-master", "rabbitmq.prod.internal", "cache.k3x9fa.ng.0001.use1.cache.amazonaws.com"]
WORDS = ("fix update add remove refactor bump handle retry cache config deploy migrate parse token user "
         "session request response queue worker timeout error logging metrics docs test build release api "
         "schema index lint flaky race leak memory batch export import").split()


def pw(r, lo=14, hi=32):
    return rs(r, PWCH, r.randint(lo, hi))


def uripw(r):
    p = rs(r, URIPW, r.randint(14, 30))
    if r.random() < 0.2:
        i = r.randrange(1, len(p))
        p = p[:i] + r.choice(("%40", "%2F", "%3A", "%23", "%25")) + p[i:]
    return p


def g_aws_id(r):
    return [S(r.choice(("AKIA", "AKIA", "AKIA", "ASIA")) + rs(r, B32, 16), "aws-access-key-id")]


def g_aws_secret(r):
    return [S(rs(r, ALNUM + "+/", 40), "aws-secret-access-key")]


def g_gcp_api(r):
    return [S("AIza" + rs(r, ALNUM + "-_", 35), "gcp-api-key")]


def azure_key(r):
    return b64(r.randbytes(64))


def g_azure_key(r):
    return [S(azure_key(r), "azure-storage-key")]


def g_azure_conn(r):
    acct = rs(r, LOW + DIG, r.randint(8, 14))
    return ["DefaultEndpointsProtocol=https;AccountName=%s;AccountKey=" % acct, S(azure_key(r), "azure-storage-key"),
            ";EndpointSuffix=core.windows.net"]


def sas_sig(r):
    return b64(r.randbytes(32)).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def sas_query(r, now):
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + r.choice((3600, 86400, 86400 * 30))))
    return "sv=%s&ss=%s&srt=sco&sp=%s&se=%s&st=%s&spr=https&sig=" % (
        r.choice(("2022-11-02", "2021-06-08", "2023-01-03")), r.choice(("b", "bfqt")),
        r.choice(("r", "rl", "rwdlacupiytfx")), end, start)


def g_azure_sas(r, now=1709542800):
    acct = rs(r, LOW + DIG, r.randint(8, 14))
    return ["https://%s.blob.core.windows.net/%s/%s?%s" % (acct, r.choice(("backups", "uploads", "artifacts")),
                                                           r.choice(("db.dump", "release.tar.gz", "data.parquet")),
                                                           sas_query(r, now)), S(sas_sig(r), "azure-sas-token")]


def g_ghp(r):
    return [S(crc_token(r, "ghp_"), "github-pat")]


def g_gh_fine(r):
    return [S("github_pat_11" + rs(r, UP + DIG, 20) + "_" + rs(r, B62, 59), "github-fine-grained-pat")]


def g_ghs(r):
    return [S(crc_token(r, r.choice(("ghs_", "ghs_", "ghu_"))), "github-app-token")]


def g_gho(r):
    return [S(crc_token(r, "gho_"), "github-oauth-token")]


def g_glpat(r):
    return [S("glpat-" + rs(r, ALNUM + "-_", 20), "gitlab-pat")]


def g_bitbucket(r):
    return [S("ATBB" + rs(r, B62, 24) + rs(r, HEXU, 8), "bitbucket-app-password")]


def g_slack(r):
    c = r.random()
    if c < 0.5:
        t = "xoxb-%d-%d-%s" % (r.randrange(10 ** 10, 10 ** 12), r.randrange(10 ** 12, 10 ** 13), rs(r, ALNUM, 24))
    elif c < 0.8:
        t = "xoxp-%d-%d-%d-%s" % (r.randrange(10 ** 10, 10 ** 12), r.randrange(10 ** 10, 10 ** 12),
                                   r.randrange(10 ** 12, 10 ** 13), hexs(r, 32))
    else:
        t = "xapp-1-A%s-%d-%s" % (rs(r, UP + DIG, 10), r.randrange(10 ** 12, 10 ** 13), hexs(r, 64))
    return [S(t, "slack-token")]


def g_slack_hook(r):
    return [S("https://hooks.slack.com/services/T%s/B%s/%s" % (rs(r, UP + DIG, 8), rs(r, UP + DIG, 10), rs(r, ALNUM, 24)),
              "slack-webhook")]


def g_stripe(r):
    pre = r.choice(("sk_live_", "sk_live_", "rk_live_"))
    body = rs(r, ALNUM, 24) if r.random() < 0.4 else "51" + rs(r, ALNUM, 97)
    return [S(pre + body, "stripe-secret-key")]


def g_twilio_key(r):
    """A Twilio API key's secret; its SID (SK + 32 hex) is an identifier, like the account SID."""
    return [S(rs(r, ALNUM, 32), "twilio-api-key")]


def g_twilio_key_basic(r):
    return ["SK%s:" % hexs(r, 32), S(rs(r, ALNUM, 32), "twilio-api-key")]


def g_twilio_tok(r):
    return [S(hexs(r, 32), "twilio-auth-token")]


def g_sendgrid(r):
    return [S("SG." + rs(r, B64URL, 22) + "." + rs(r, B64URL, 43), "sendgrid-api-key")]


def g_mailgun(r):
    return [S("key-" + hexs(r, 32), "mailgun-api-key")]


def g_npm(r):
    return [S(crc_token(r, "npm_"), "npm-token")]


def g_pypi(r):
    return [S("pypi-AgEIcHlwaS5vcmc" + rs(r, B64URL, r.randint(120, 170)), "pypi-token")]


def g_docker(r):
    return [S("dckr_pat_" + rs(r, B64URL, 27), "dockerhub-pat")]


def g_vault(r):
    return [S("hvs." + ("CAESI" + rs(r, B64URL, 86) if r.random() < 0.7 else rs(r, ALNUM, 24)), "vault-token")]


def g_heroku(r):
    return [S("HRKU-AA" + rs(r, B64URL, 58), "heroku-api-key")]


def g_heroku_legacy(r):
    return [S(uuid4(r), "heroku-api-key-legacy")]


def g_do(r):
    return [S(r.choice(("dop_v1_", "dop_v1_", "doo_v1_")) + hexs(r, 64), "digitalocean-token")]


def g_shopify(r):
    return [S(r.choice(("shpat_", "shpat_", "shpss_", "shpca_", "shppa_")) + hexs(r, 32), "shopify-token")]


def g_atlassian(r):
    return [S("ATATT3xFfGF0" + rs(r, B64URL, 171) + "=" + rs(r, HEXU, 8), "atlassian-api-token")]


def g_openai(r):
    c = r.random()
    if c < 0.6:
        t = "sk-proj-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)
    elif c < 0.8:
        t = "sk-svcacct-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)
    else:
        t = "sk-" + rs(r, ALNUM, 20) + "T3BlbkFJ" + rs(r, ALNUM, 20)
    return [S(t, "openai-api-key")]


def g_anthropic(r):
    return [S("sk-ant-api03-" + rs(r, B64URL, 93) + "AA", "anthropic-api-key")]


def g_jwt(r):
    return [S(jwt(r, 1709542800 + r.randrange(10 ** 7)), "jwt")]


def g_pg(r):
    user = r.choice(("app", "app_user", "postgres", "billing", "readonly", "svc_api", "admin"))
    host = r.choice(DBHOSTS[:7])
    q = r.choice(("", "", "?sslmode=require", "?sslmode=verify-full&application_name=api"))
    return ["%s://%s:" % (r.choice(("postgres", "postgresql", "postgresql+psycopg2")), user), S(uripw(r), "postgres-uri"),
            "@%s:5432/%s%s" % (host, r.choice(("app", "prod", "billing", "analytics")), q)]


def g_mysql(r):
    user = r.choice(("root", "app", "wordpress", "laravel", "svc"))
    return ["%s://%s:" % (r.choice(("mysql", "mysql", "mysql2", "mysql+pymysql")), user), S(uripw(r), "mysql-uri"),
            "@%s:3306/%s" % (r.choice(("mysql.default.svc", "10.0.4.21", "db-mysql", "aurora.cluster-ro-x1.eu-west-1.rds.amazonaws.com")),
                              r.choice(("app", "wp", "shop")))]


def g_mongo(r):
    user = r.choice(("admin", "app", "root", "analytics"))
    if r.random() < 0.5:
        return ["mongodb+srv://%s:" % user, S(uripw(r), "mongodb-uri"),
                "@cluster0.%s.mongodb.net/%s?retryWrites=true&w=majority" % (rs(r, LOW + DIG, 5), r.choice(("prod", "test", "app")))]
    return ["mongodb://%s:" % user, S(uripw(r), "mongodb-uri"),
            "@mongo-0.mongo:27017,mongo-1.mongo:27017/%s?replicaSet=rs0&authSource=admin" % r.choice(("app", "events"))]


def g_redis(r):
    c = r.random()
    pre = "rediss://" if c < 0.25 else "redis://"
    user = "" if r.random() < 0.5 else "default"
    return [pre + user + ":", S(uripw(r), "redis-uri"), "@%s:6379/%d" % (r.choice(("redis-master", "cache.k3x9fa.ng.0001.use1.cache.amazonaws.com", "10.0.2.7")), r.randrange(4))]


def g_amqp(r):
    return ["%s://%s:" % (r.choice(("amqp", "amqp", "amqps")), r.choice(("celery", "app", "admin", "worker"))),
            S(uripw(r), "amqp-uri"), "@%s:%d/%s" % (r.choice(("rabbitmq.prod.internal", "rabbitmq", "b-1a2b.mq.us-east-1.amazonaws.com")),
                                                    r.choice((5672, 5671)), r.choice(("", "%2F", "vhost", "prod")))]


def g_basic(r):
    return ["%s://%s:" % (r.choice(("https", "https", "http")), r.choice(("deploy", "ci", "admin", "svc-build", "alice", "proxyuser"))),
            S(uripw(r), "basic-auth-url"),
            "@%s" % r.choice(("nexus.corp.example.com/repository/pypi/simple", "proxy.corp:3128", "artifactory.example.io/api/npm/npm",
                              "git.example.com/team/app.git", "registry.internal:5000/v2/", "jenkins.example.com/job/deploy/build"))]


def g_password(r):
    return [S(pw(r), "password-assignment")]


def g_secret(r):
    c = r.random()
    if c < 0.4:
        v = rs(r, ALNUM, r.randint(24, 48))
    elif c < 0.7:
        v = hexs(r, r.choice((32, 40, 64)))
    elif c < 0.85:
        v = b64(r.randbytes(r.choice((24, 32))))
    else:
        v = rs(r, ALNUM + "!#%*+-.:=?@^_~()", 50)
    return [S(v, "secret-assignment")]


class Fmt:
    def __init__(self, label, gen, names, logs=(), ctx=False):
        self.label, self.gen, self.names, self.logs, self.ctx = label, gen, names, logs, ctx
        self.key = label + ":" + gen.__name__


def L(*parts):
    """A log-line template: parts are strings and None (the value)."""
    return parts


KV = [
    Fmt("aws-access-key-id", g_aws_id, ["AWS_ACCESS_KEY_ID", "aws_access_key_id", "AWS_ACCESS_KEY"],
        [L('    "AccessKeyId": "', None, '",'), L("aws_access_key_id = ", None)]),
    Fmt("aws-secret-access-key", g_aws_secret, ["AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "AWS_SECRET_KEY"],
        [L('    "SecretAccessKey": "', None, '",'), L("aws_secret_access_key = ", None)], ctx=True),
    Fmt("gcp-api-key", g_gcp_api, ["GOOGLE_API_KEY", "FIREBASE_API_KEY", "MAPS_API_KEY", "apiKey"],
        [L("curl -s 'https://maps.googleapis.com/maps/api/geocode/json?address=1600+Amphitheatre&key=", None, "'"),
         L('    <script async src="https://maps.googleapis.com/maps/api/js?key=', None, '&callback=initMap"></script>')]),
    Fmt("azure-storage-key", g_azure_key, ["AZURE_STORAGE_KEY", "AZURE_STORAGE_ACCOUNT_KEY", "AccountKey"], ctx=True),
    Fmt("azure-storage-key", g_azure_conn, ["AZURE_STORAGE_CONNECTION_STRING", "AzureWebJobsStorage", "StorageConnectionString"],
        [L("az storage blob upload --connection-string '", None, "' -c backups -f db.dump")]),
    Fmt("azure-sas-token", g_azure_sas, ["AZURE_SAS_URL", "BACKUP_CONTAINER_URL", "SAS_URL"],
        [L("azcopy copy '", None, "' ./restore/ --recursive"), L("INFO: Downloading ", None)]),
    Fmt("github-pat", g_ghp, ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT", "HOMEBREW_GITHUB_API_TOKEN"],
        [L('curl -sf -H "Authorization: token ', None, '" https://api.github.com/user/repos'),
         L("git clone https://", None, "@github.com/acme/infra.git")]),
    Fmt("github-fine-grained-pat", g_gh_fine, ["GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"],
        [L('curl -sf -H "Authorization: Bearer ', None, '" https://api.github.com/repos/acme/app/actions/runs')]),
    Fmt("github-app-token", g_ghs, ["GITHUB_TOKEN", "GH_APP_TOKEN", "INSTALLATION_TOKEN"],
        [L("git clone https://x-access-token:", None, "@github.com/acme/deploy-config.git"),
         L("+ git remote set-url origin https://x-access-token:", None, "@github.com/acme/app.git")]),
    Fmt("github-oauth-token", g_gho, ["GH_OAUTH_TOKEN", "GITHUB_OAUTH_TOKEN"],
        [L("    oauth_token: ", None)]),
    Fmt("gitlab-pat", g_glpat, ["GITLAB_TOKEN", "GITLAB_PRIVATE_TOKEN", "CI_PUSH_TOKEN"],
        [L('curl --header "PRIVATE-TOKEN: ', None, '" "https://gitlab.com/api/v4/projects?owned=true"'),
         L("git push https://oauth2:", None, "@gitlab.com/acme/platform.git HEAD:main")]),
    Fmt("bitbucket-app-password", g_bitbucket, ["BITBUCKET_APP_PASSWORD", "BB_APP_PASSWORD"],
        [L("git clone https://alice:", None, "@bitbucket.org/acme/legacy-app.git")]),
    Fmt("slack-token", g_slack, ["SLACK_BOT_TOKEN", "SLACK_TOKEN", "SLACK_APP_TOKEN"],
        [L('curl -s -X POST -H "Authorization: Bearer ', None, '" -d channel=C024BE91L -d text=deployed https://slack.com/api/chat.postMessage')]),
    Fmt("slack-webhook", g_slack_hook, ["SLACK_WEBHOOK_URL", "SLACK_WEBHOOK"],
        [L("curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"build failed\"}' ", None)]),
    Fmt("stripe-secret-key", g_stripe, ["STRIPE_SECRET_KEY", "STRIPE_API_KEY", "STRIPE_KEY"],
        [L("curl https://api.stripe.com/v1/charges -u ", None, ": -d amount=2000 -d currency=usd")]),
    Fmt("twilio-api-key", g_twilio_key, ["TWILIO_API_SECRET", "TWILIO_API_KEY_SECRET"], ctx=True),
    Fmt("twilio-api-key", g_twilio_key_basic, ["TWILIO_CREDENTIALS"],
        [L("curl -X POST https://api.twilio.com/2010-04-01/Accounts/AC4f3c1e2d9b8a7f6e5d4c3b2a1f0e9d8c/Messages.json -u ",
           None, " --data-urlencode 'Body=deploy done'")]),
    Fmt("twilio-auth-token", g_twilio_tok, ["TWILIO_AUTH_TOKEN"], ctx=True),
    Fmt("sendgrid-api-key", g_sendgrid, ["SENDGRID_API_KEY", "SMTP_PASSWORD"],
        [L("curl --request POST --url https://api.sendgrid.com/v3/mail/send --header 'Authorization: Bearer ", None, "'")]),
    Fmt("mailgun-api-key", g_mailgun, ["MAILGUN_API_KEY", "MAILGUN_KEY"],
        [L("curl -s --user 'api:", None, "' https://api.mailgun.net/v3/mg.example.com/messages")]),
    Fmt("npm-token", g_npm, ["NPM_TOKEN", "NODE_AUTH_TOKEN"],
        [L("//registry.npmjs.org/:_authToken=", None)]),
    Fmt("pypi-token", g_pypi, ["PYPI_TOKEN", "TWINE_PASSWORD", "PYPI_API_TOKEN"],
        [L("  password = ", None), L("twine upload -u __token__ -p ", None, " dist/*")]),
    Fmt("dockerhub-pat", g_docker, ["DOCKERHUB_TOKEN", "DOCKER_PASSWORD", "DOCKER_HUB_PAT"],
        [L("docker login -u acmebot -p ", None)]),
    Fmt("vault-token", g_vault, ["VAULT_TOKEN"],
        [L('curl -s -H "X-Vault-Token: ', None, '" https://vault.internal:8200/v1/secret/data/app'),
         L("token                ", None)]),
    Fmt("heroku-api-key", g_heroku, ["HEROKU_API_KEY"],
        [L('curl -n https://api.heroku.com/apps -H "Authorization: Bearer ', None, '"')]),
    Fmt("heroku-api-key-legacy", g_heroku_legacy, ["HEROKU_API_KEY"], ctx=True),
    Fmt("digitalocean-token", g_do, ["DIGITALOCEAN_ACCESS_TOKEN", "DO_TOKEN", "DIGITALOCEAN_TOKEN"],
        [L('curl -X GET -H "Authorization: Bearer ', None, '" "https://api.digitalocean.com/v2/droplets"')]),
    Fmt("shopify-token", g_shopify, ["SHOPIFY_ACCESS_TOKEN", "SHOPIFY_ADMIN_TOKEN"],
        [L("curl -H 'X-Shopify-Access-Token: ", None, "' https://acme.myshopify.com/admin/api/2024-01/orders.json")]),
    Fmt("atlassian-api-token", g_atlassian, ["JIRA_API_TOKEN", "ATLASSIAN_API_TOKEN", "CONFLUENCE_TOKEN"],
        [L("curl -u alice@example.com:", None, " https://acme.atlassian.net/rest/api/3/myself")]),
    Fmt("openai-api-key", g_openai, ["OPENAI_API_KEY"],
        [L('curl https://api.openai.com/v1/models -H "Authorization: Bearer ', None, '"')]),
    Fmt("anthropic-api-key", g_anthropic, ["ANTHROPIC_API_KEY"],
        [L('curl https://api.anthropic.com/v1/messages -H "x-api-key: ', None, '" -H "anthropic-version: 2023-06-01"')]),
    Fmt("jwt", g_jwt, ["ACCESS_TOKEN", "ID_TOKEN", "AUTH_TOKEN", "JWT", "BEARER_TOKEN"],
        [L('curl -s -H "Authorization: Bearer ', None, '" https://api.example.com/v1/me'),
         L("> Authorization: Bearer ", None), L("Cookie: session=", None)]),
    Fmt("postgres-uri", g_pg, ["DATABASE_URL", "POSTGRES_URL", "PG_URI", "SQLALCHEMY_DATABASE_URI"],
        [L("psql '", None, "' -c 'select 1'"), L("INFO  [alembic.runtime.migration] Connecting to ", None)]),
    Fmt("mysql-uri", g_mysql, ["DATABASE_URL", "MYSQL_URL", "DB_URI"],
        [L("[app] connecting to ", None, " (pool=10)")]),
    Fmt("mongodb-uri", g_mongo, ["MONGO_URL", "MONGODB_URI", "MONGO_URI"],
        [L("mongosh '", None, "'")]),
    Fmt("redis-uri", g_redis, ["REDIS_URL", "CACHE_URL", "CELERY_RESULT_BACKEND"],
        [L("redis-cli -u ", None, " ping")]),
    Fmt("amqp-uri", g_amqp, ["AMQP_URL", "RABBITMQ_URL", "CELERY_BROKER_URL", "BROKER_URL"],
        [L("pika.adapters.utils.connection_workflow INFO Connecting to ", None)]),
    Fmt("basic-auth-url", g_basic, ["HTTP_PROXY", "HTTPS_PROXY", "PIP_INDEX_URL", "NEXUS_URL", "ARTIFACTORY_URL", "REGISTRY_URL"],
        [L("origin\t", None, " (fetch)"), L("pip install --index-url ", None, " internal-lib==2.3.1")]),
    Fmt("password-assignment", g_password,
        ["PASSWORD", "DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "REDIS_PASSWORD", "SMTP_PASS",
         "ADMIN_PASSWORD", "password", "db_passwd", "KEYSTORE_PASSWORD"], ctx=True),
    Fmt("secret-assignment", g_secret,
        ["SECRET_KEY", "CLIENT_SECRET", "JWT_SECRET", "SESSION_SECRET", "API_SECRET", "APP_SECRET", "client_secret",
         "secret", "API_KEY", "api_key", "AUTH_TOKEN_SECRET", "WEBHOOK_SECRET", "ENCRYPTION_KEY"], ctx=True),
]


def gen_private_key(r, kind):
    if kind == "private-key-rsa":
        return key_rsa(r)
    if kind == "private-key-ec":
        return key_ec(r)
    if kind == "private-key-pkcs8":
        return key_pkcs8(r)
    if kind == "private-key-encrypted":
        return key_encrypted(r)
    if kind == "private-key-openssh":
        return openssh_key(r, comment="%s@%s" % (r.choice(USERS), r.choice(HOSTS)))
    if kind == "private-key-dsa":
        return key_dsa(r)
    if kind == "private-key-pgp":
        return pgp_block(r, True, "%s %s <%s@example.com>" % (r.choice(NAMES), r.choice(SURNAMES), r.choice(USERS)))
    raise ValueError(kind)


KEYS = ["private-key-rsa", "private-key-ec", "private-key-pkcs8", "private-key-encrypted", "private-key-openssh",
        "private-key-dsa", "private-key-pgp"]
# Formats planted only by their own sessions.
SPECIAL = KEYS + ["gcp-service-account-key", "pkcs12-base64", "kubernetes-secret"]
ALL_FORMATS = sorted(set([f.label for f in KV] + SPECIAL))


# ---- hard negatives in key=value form -------------------------------------------------------------
def neg_kv(r):
    c = r.randrange(34)
    if c == 0:
        return "AWS_ACCESS_KEY_ID", [N("AKIAIOSFODNN7EXAMPLE", "aws-example-key")]
    if c == 1:
        return "AWS_SECRET_ACCESS_KEY", [N("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-example-key")]
    if c == 2:
        return r.choice(("DB_PASSWORD", "PASSWORD", "POSTGRES_PASSWORD")), [N(r.choice(("${DB_PASSWORD}", "$DB_PASSWORD", "${POSTGRES_PASSWORD:-}", "{{ .Values.db.password }}")), "placeholder")]
    if c == 3:
        return r.choice(("API_KEY", "OPENAI_API_KEY", "STRIPE_SECRET_KEY")), [N(r.choice(("<your-api-key>", "<YOUR_API_KEY>", "your-api-key-here", "<your-token>")), "placeholder")]
    if c == 4:
        return r.choice(("PASSWORD", "ADMIN_PASSWORD", "password")), [N(r.choice(("changeme", "password", "admin", "secret", "CHANGE_ME", "password123", "12345678")), "low-entropy")]
    if c == 5:
        return r.choice(("SECRET_KEY", "JWT_SECRET", "SESSION_SECRET")), [N(r.choice(("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "aaaaaaaaaaaaaaaaaaaa", "secret", "changeme", "REPLACE_ME", "TODO")), "placeholder")]
    if c == 6:
        return "DATABASE_URL", ["postgres://postgres:", N(r.choice(("postgres", "password", "secret")), "low-entropy"), "@localhost:5432/app_test"]
    if c == 7:
        return "DATABASE_URL", ["postgresql://app:", N(r.choice(("${DB_PASSWORD}", "$PGPASSWORD", "<password>", "********")), "placeholder"), "@db:5432/app"]
    if c == 8:
        return r.choice(("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "SOURCE_VERSION")), [N(hexs(r, 40), "git-commit")]
    if c == 9:
        return r.choice(("BUILD_ID", "INVOCATION_ID", "REQUEST_ID", "RUNNER_TRACKING_ID")), [N(uuid4(r) if r.random() < 0.6 else hexs(r, 32), "uuid")]
    if c == 10:
        return "GPG_KEY", [N(rs(r, HEXU, 40), "gpg-fingerprint")]
    if c == 11:
        return r.choice(("PYTHON_SHA256", "NODE_SHA256", "CHECKSUM_SHA256")), [N(hexs(r, 64), "sha256")]
    if c == 12:
        return r.choice(("TOKEN_TTL", "PASSWORD_MIN_LENGTH", "SESSION_TIMEOUT", "API_KEY_HEADER", "CSRF_TOKEN_HEADER")), [r.choice(("3600", "12", "900", "X-Api-Key", "X-CSRF-Token"))]
    if c == 13:
        return "STRIPE_SECRET_KEY", [N("sk_live_" + "x" * 24, "placeholder")]
    if c == 14:
        return "GITHUB_TOKEN", [N("ghp_" + r.choice(("x", "X", "0")) * 36, "placeholder")]
    if c == 15:
        return "AWS_ACCESS_KEY_ID", [N("AKIA" + "X" * 16, "placeholder")]
    if c == 16:
        return "GITHUB_TOKEN", [N("ghp_" + rs(r, B62, 36), "github-bad-checksum")]
    if c == 17:
        return "STRIPE_PUBLISHABLE_KEY", [N("pk_live_" + rs(r, ALNUM, r.choice((24, 99))), "stripe-publishable-key")]
    if c == 18:
        if r.random() < 0.5:
            return "TWILIO_API_KEY_SID", [N("SK" + hexs(r, 32), "twilio-api-key-sid")]
        return "TWILIO_ACCOUNT_SID", [N("AC" + hexs(r, 32), "twilio-account-sid")]
    if c == 19:
        return "GOOGLE_CLIENT_ID", [N("%d-%s.apps.googleusercontent.com" % (r.randrange(10 ** 11, 10 ** 12), rs(r, LOW + DIG, 32)), "oauth-client-id")]
    if c == 20:
        return "SENTRY_DSN", ["https://", N(hexs(r, 32), "sentry-dsn-public-key"), "@o%d.ingest.sentry.io/%d" % (r.randrange(10 ** 5, 10 ** 6), r.randrange(10 ** 6, 10 ** 7))]
    if c == 21:
        return r.choice(("PASSWORD", "AWS_SECRET_ACCESS_KEY", "NPM_TOKEN")), [N(r.choice(("***", "********", "[MASKED]", "<redacted>")), "masked")]
    if c == 22:
        return "NPM_TOKEN", [N("${NPM_TOKEN}", "placeholder")]
    if c == 23:
        return "DATABASE_URL", ["mysql://root:", N("root", "low-entropy"), "@127.0.0.1:3306/test"]
    if c == 24:
        return "MONGO_URL", ["mongodb://", N("<username>", "placeholder"), ":", N("<password>", "placeholder"), "@cluster0.mongodb.net/test"]
    if c == 25:
        return "REDIS_URL", ["redis://localhost:6379/0"]
    if c == 26:
        return "IMAGE_DIGEST", ["sha256:", N(hexs(r, 64), "sha256")]
    if c == 27:
        return "HOSTNAME", [r.choice(PROJECTS) + "-" + rs(r, LOW + DIG, 10) + "-" + rs(r, LOW + DIG, 5)]
    if c == 28:
        return "CI_JOB_ID", [str(r.randrange(10 ** 9, 10 ** 10))]
    if c == 29:
        return "SSH_AUTH_SOCK", ["/tmp/ssh-%s/agent.%d" % (rs(r, ALNUM, 10), r.randrange(1000, 99999))]
    if c == 30:
        return "CACHE_KEY", [N("node-modules-" + hexs(r, 64), "sha256")]
    if c == 31:
        return "DOCKER_CONFIG_CHECKSUM", [N(hexs(r, 32), "md5")]
    if c == 32:
        return "TRACEPARENT", ["00-", N(hexs(r, 32), "random-hex"), "-", N(hexs(r, 16), "random-hex"), "-01"]
    return "PUBLIC_KEY_ID", [N(uuid4(r), "uuid")]


BASE_ENV = [
    ("SHELL", "/bin/bash"), ("LANG", "en_US.UTF-8"), ("TERM", "xterm-256color"), ("SHLVL", "1"),
    ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin"),
    ("EDITOR", "vim"), ("PAGER", "less"), ("LESSOPEN", "| /usr/bin/lesspipe %s"),
    ("XDG_SESSION_TYPE", "tty"), ("XDG_RUNTIME_DIR", "/run/user/1000"), ("COLORTERM", "truecolor"),
    ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"), ("NODE_ENV", "production"),
    ("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64"), ("GOPATH", "/home/dev/go"), ("TZ", "UTC"),
    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"), ("KUBERNETES_SERVICE_PORT", "443"), ("NODE_VERSION", "20.11.1"),
    ("PYTHON_VERSION", "3.12.2"), ("PIP_NO_CACHE_DIR", "1"), ("LOG_LEVEL", "info"), ("PORT", "8080"),
]
LS_COLORS = ("rs=0:di=01;34:ln=01;36:mh=00:pi=40;33:so=01;35:do=01;35:bd=40;33;01:cd=40;33;01:or=40;31;01:mi=00:"
             "su=37;41:sg=30;43:ca=30;41:tw=30;42:ow=34;42:st=37;44:ex=01;32:*.tar=01;31:*.tgz=01;31:*.arc=01;31:"
             "*.arj=01;31:*.taz=01;31:*.lha=01;31:*.lz4=01;31:*.lzh=01;31:*.lzma=01;31:*.tlz=01;31:*.txz=01;31:"
             "*.tzo=01;31:*.t7z=01;31:*.zip=01;31:*.z=01;31:*.dz=01;31:*.gz=01;31:*.lrz=01;31:*.lz=01;31:"
             "*.jpg=01;35:*.jpeg=01;35:*.mjpg=01;35:*.png=01;35:*.svg=01;35:*.mp4=01;35:*.aac=00;36:*.flac=00;36:")


# ---- the writer -------------------------------------------------------------------------------------
HL_ON = ("\x1b[01;31m\x1b[K", "\x1b[1;31m", "\x1b[7m", "\x1b[38;5;208m")
HL_OFF = ("\x1b[m\x1b[K", "\x1b[0m", "\x1b[27m", "\x1b[39m")
COLOURS = ("\x1b[32m", "\x1b[0;32m", "\x1b[1;33m", "\x1b[36m", "\x1b[38;5;114m", "\x1b[38;2;152;195;121m", "\x1b[31m")
PLACEHOLDERS = ("changeme", "${SECRET}", "<your-token>", "********", "REDACTED", "xxxxxxxxxxxxxxxx", "***",
                "your-api-key-here", "<redacted>", "CHANGE_ME", "dummy", "${{ secrets.TOKEN }}")


class Out:
    def __init__(self, f, r, nosec, density):
        self.f, self.r, self.nosec, self.density = f, r, nosec, density
        self.buf, self.nbuf, self.off = [], 0, 0
        self.labels, self.negs = [], []
        self.crlf = False
        self.count = {}
        self.now = 1709542800  # 2024-03-04 09:00 UTC, advanced by sessions

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf, self.nbuf = [], 0

    def w(self, s):
        if self.crlf:
            s = s.replace("\n", "\r\n")
        b = s.encode()
        self.buf.append(b)
        self.off += len(b)
        self.nbuf += len(b)
        if self.nbuf > (1 << 20):
            self.flush()

    def put(self, *items):
        for it in items:
            t = type(it)
            if t is str:
                self.w(it)
            elif t is S:
                self.secret(it)
            elif t is N:
                start = self.off
                self.w(it.v)
                self.negs.append((start, self.off, it.kind))
            else:
                self.put(*it)

    def line(self, *items):
        self.put(*items)
        self.w("\n")

    def secret(self, s):
        r = self.r
        if self.nosec:
            start = self.off
            self.w(r.choice(PLACEHOLDERS))
            self.negs.append((start, self.off, "placeholder"))
            return
        v = s.v
        pre = post = ""
        x = r.random()
        if not s.plain and "\n" not in v and len(v) >= 12 and x < 0.04:
            # grep --color style: part of the value highlighted, the escapes inside the span
            n = len(v)
            i = r.choice((0, 0, r.randrange(1, n - 3)))
            j = min(n, i + r.randrange(3, 12))
            k = r.randrange(len(HL_ON))
            on, off = HL_ON[k], HL_OFF[k]
            if i == 0:
                pre = on
                body = v[:j] + (off + v[j:] if j < n else "")
            else:
                body = v[:i] + on + v[i:j] + (off + v[j:] if j < n else "")
            if j == n:
                post = off
            v = body
        elif not s.plain and x < 0.10:
            pre, post = r.choice(COLOURS), r.choice(("\x1b[0m", "\x1b[m", "\x1b[39m"))
        if pre:
            self.w(pre)
        start = self.off
        self.w(v)
        self.labels.append((start, self.off, s.fmt))
        if post:
            self.w(post)

    def nplant(self, mean):
        m = mean * self.density
        n = int(m)
        if self.r.random() < m - n:
            n += 1
        return n

    def pick(self, cands):
        """The least planted of cands so far (ties: random), so every format gets its share."""
        c = self.count
        m = min(c.get(f.key if isinstance(f, Fmt) else f, 0) for f in cands)
        low = [f for f in cands if c.get(f.key if isinstance(f, Fmt) else f, 0) == m]
        f = self.r.choice(low)
        k = f.key if isinstance(f, Fmt) else f
        c[k] = c.get(k, 0) + 1
        return f

    def tick(self, lo=1, hi=90):
        self.now += self.r.randint(lo, hi)
        return self.now


def ts_iso(t, frac=None):
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return s + ("." + frac if frac else "") + "Z"


def ts_git(t):
    return time.strftime("%a %b %d %H:%M:%S %Y +0000", time.gmtime(t))


def ts_log(t):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


# ---- sessions -----------------------------------------------------------------------------------
class Sess:
    def __init__(self, o):
        r = o.r
        self.user = r.choice(USERS + ["root"])
        self.host = r.choice(HOSTS)
        self.proj = r.choice(PROJECTS)
        self.cwd = r.choice(("~", "~/src/" + self.proj, "/srv/" + self.proj, "/app", "~/work/" + self.proj))
        self.style = r.randrange(5)
        self.bracketed = r.random() < 0.5
        self.title = r.random() < 0.3
        self.branch = r.choice(("main", "main", "develop", "feature/%s-%s" % (r.choice(WORDS), r.choice(WORDS))))


def prompt(o, s, *cmd):
    if s.bracketed:
        o.w("\x1b[?2004h")
    if s.title:
        o.w("\x1b]0;%s@%s: %s\x07" % (s.user, s.host, s.cwd))
    base = s.cwd.rsplit("/", 1)[-1]
    if s.style == 0:
        o.w("%s@%s:%s%s " % (s.user, s.host, s.cwd, "#" if s.user == "root" else "$"))
    elif s.style == 1:
        o.w("\x1b[01;32m%s@%s\x1b[00m:\x1b[01;34m%s\x1b[00m$ " % (s.user, s.host, s.cwd))
    elif s.style == 2:
        o.w("\x1b[1;32m➜  \x1b[36m%s\x1b[0m \x1b[1;34mgit:(\x1b[31m%s\x1b[34m)\x1b[0m " % (base, s.branch))
    elif s.style == 3:
        o.w("[%s@%s %s]$ " % (s.user, s.host, base))
    else:
        o.w("\x1b[1m%s\x1b[0m on \x1b[1;35m %s\x1b[0m \n\x1b[1;32m❯\x1b[0m " % (base, s.branch))
    o.put(*cmd)
    o.w("\n")
    if s.bracketed:
        o.w("\x1b[?2004l\r")


def kv_plant(o, cands=None):
    """(name, value items) of a planted key=value secret, or of a hard negative."""
    f = o.pick(cands or KV)
    return o.r.choice(f.names), f.gen(o.r)


def env_entries(o, nsec, nneg):
    r = o.r
    ents = [(k, [v]) for k, v in r.sample(BASE_ENV, r.randint(8, len(BASE_ENV)))]
    ents += [("HOME", ["/home/dev"]), ("USER", ["dev"]), ("PWD", ["/home/dev/src"])]
    if r.random() < 0.5:
        ents.append(("LS_COLORS", [LS_COLORS]))
    if r.random() < 0.4:
        ents.append(("SSH_CONNECTION", ["10.0.%d.%d %d 10.0.0.10 22" % (r.randrange(255), r.randrange(255), r.randrange(30000, 65000))]))
    for _ in range(nneg):
        ents.append(neg_kv(r))
    for _ in range(nsec):
        ents.append(kv_plant(o))
    return ents


def s_env(o, s):
    r = o.r
    style = r.choice(("env", "printenv", "env | sort", "export -p", "docker exec -it api env", "kubectl exec deploy/api -- env"))
    prompt(o, s, style)
    ents = env_entries(o, o.nplant(3.0), r.randint(2, 6))
    if "sort" in style:
        ents.sort(key=lambda e: e[0])
    else:
        r.shuffle(ents)
    if r.random() < 0.08 * o.density:
        k = o.pick(KEYS)
        ents.insert(r.randrange(len(ents) + 1), ("SSH_PRIVATE_KEY", [S(gen_private_key(r, k), k)]))
    for k, v in ents:
        if style == "export -p":
            o.line("declare -x ", k, '="', v, '"')
        else:
            o.line(k, "=", v)


def s_dotenv(o, s):
    r = o.r
    example = r.random() < 0.15
    fn = ".env.example" if example else r.choice((".env", ".env.production", ".env.local", "config/.env", "deploy/prod.env"))
    prompt(o, s, "cat ", fn)
    sections = ["# Application", "# Database", "# Third-party APIs", "# Cache / queues", "# Mail"]
    nsec = 0 if example else o.nplant(4.0)
    ents = []
    for _ in range(r.randint(3, 8)):
        k, v = r.choice(BASE_ENV)
        ents.append((k, [v]))
    for _ in range(r.randint(1, 4) + (6 if example else 0)):
        ents.append(neg_kv(r))
    for _ in range(nsec):
        ents.append(kv_plant(o))
    r.shuffle(ents)
    per = max(1, len(ents) // r.randint(2, 4))
    for i, (k, v) in enumerate(ents):
        if i % per == 0:
            if i:
                o.w("\n")
            o.line(r.choice(sections))
        q = r.random()
        if q < 0.25:
            o.line(k, '="', v, '"')
        elif q < 0.3:
            o.line("export ", k, "=", v)
        else:
            o.line(k, "=", v)


def s_kubectl(o, s):
    r = o.r
    ns = r.choice(("default", "prod", "staging", "payments", "kube-system", "monitoring"))
    app = r.choice(PROJECTS)
    c = r.random()
    if c < 0.3:
        prompt(o, s, "kubectl get pods -n ", ns)
        o.line("NAME                                READY   STATUS    RESTARTS      AGE")
        for _ in range(r.randint(2, 8)):
            name = "%s-%s-%s" % (r.choice(PROJECTS), rs(r, LOW + DIG, 10), rs(r, LOW + DIG, 5))
            o.line("%-35s %-7s %-9s %-13s %s" % (name, "1/1", r.choice(("Running", "Running", "Pending", "CrashLoopBackOff")),
                                                  "%d" % r.randrange(4), "%dd" % r.randrange(1, 90)))
    name = "%s-%s" % (app, r.choice(("db", "secrets", "credentials", "api-keys", "env")))
    keys = r.sample(("password", "api-key", "token", "client-secret", "database-url", "db-password", "secret-key",
                     "webhook-secret", "keystore.p12", "id_rsa"), r.randint(1, 4))
    data = []
    for k in keys:
        if k == "keystore.p12":
            o.count["pkcs12-base64"] = o.count.get("pkcs12-base64", 0) + 1
            data.append((k, S(pkcs12_b64(r), "pkcs12-base64")))
            continue
        o.count["kubernetes-secret"] = o.count.get("kubernetes-secret", 0) + 1
        if k == "id_rsa":
            raw = gen_private_key(r, r.choice(("private-key-rsa", "private-key-openssh")))
        elif k == "database-url":
            raw = "postgres://app:%s@db:5432/app" % uripw(r)
        elif k in ("token", "api-key"):
            raw = r.choice((g_ghp, g_stripe, g_slack, g_npm, g_sendgrid, g_glpat))(r)[0].v if r.random() < 0.5 else rs(r, ALNUM, 40)
        else:
            raw = pw(r, 16, 40)
        data.append((k, S(b64(raw.encode()), "kubernetes-secret")))
    fmt = "json" if r.random() < 0.3 else "yaml"
    described = r.random() < 0.15
    if described:
        prompt(o, s, "kubectl describe secret ", name, " -n ", ns)
        o.line("Name:         ", name)
        o.line("Namespace:    ", ns)
        o.line("Labels:       app=", app)
        o.line("Annotations:  <none>\n\nType:  Opaque\n\nData\n====")
        for k, v in data:
            o.line(k, ":  ", str(len(base64.b64decode(v.v))), " bytes")
        return
    prompt(o, s, "kubectl get secret ", name, " -n ", ns, " -o ", fmt)
    uid = uuid4(r)
    rv = str(r.randrange(10 ** 5, 10 ** 8))
    created = ts_iso(o.now - r.randrange(10 ** 7))
    applied = r.random() < 0.3 and not o.nosec
    if fmt == "yaml":
        o.line("apiVersion: v1")
        o.line("data:")
        for k, v in data:
            o.line("  ", k, ": ", v)
        o.line("kind: Secret")
        o.line("metadata:")
        if applied:
            o.line("  annotations:")
            o.line("    kubectl.kubernetes.io/last-applied-configuration: |")
            o.put('      {"apiVersion":"v1","data":{')
            for i, (k, v) in enumerate(data):
                o.put("," if i else "", '"', k, '":"', S(v.v, v.fmt, plain=True), '"')
            o.line('},"kind":"Secret","metadata":{"annotations":{},"name":"%s","namespace":"%s"},"type":"Opaque"}' % (name, ns))
        o.line('  creationTimestamp: "', created, '"')
        o.line("  name: ", name)
        o.line("  namespace: ", ns)
        o.line('  resourceVersion: "', rv, '"')
        o.line("  uid: ", N(uid, "uuid"))
        o.line("type: Opaque")
    else:
        o.line("{")
        o.line('    "apiVersion": "v1",')
        o.line('    "data": {')
        for i, (k, v) in enumerate(data):
            o.line('        "', k, '": "', v, '"', "," if i + 1 < len(data) else "")
        o.line("    },")
        o.line('    "kind": "Secret",')
        o.line('    "metadata": {')
        o.line('        "creationTimestamp": "', created, '",')
        o.line('        "name": "', name, '",')
        o.line('        "namespace": "', ns, '",')
        o.line('        "resourceVersion": "', rv, '",')
        o.line('        "uid": "', N(uid, "uuid"), '"')
        o.line("    },")
        o.line('    "type": "Opaque"')
        o.line("}")
    if r.random() < 0.4:
        pod = "%s-%s-%s" % (app, rs(r, LOW + DIG, 10), rs(r, LOW + DIG, 5))
        prompt(o, s, "kubectl describe pod ", pod, " -n ", ns)
        o.line("Name:             ", pod)
        o.line("Namespace:        ", ns)
        o.line("Node:             ip-10-0-%d-%d.ec2.internal/10.0.%d.%d" % (r.randrange(255), r.randrange(255), r.randrange(255), r.randrange(255)))
        o.line("Status:           Running")
        o.line("Containers:\n  api:")
        o.line("    Container ID:   containerd://", N(hexs(r, 64), "sha256"))
        o.line("    Image:          ghcr.io/acme/%s:1.%d.%d" % (app, r.randrange(40), r.randrange(20)))
        o.line("    Image ID:       ghcr.io/acme/%s@sha256:" % app, N(hexs(r, 64), "sha256"))
        o.line("    Environment:")
        for _ in range(o.nplant(1.5)):
            k, v = kv_plant(o)
            o.line("      %s:  " % k, v)
        for _ in range(r.randint(1, 3)):
            k = r.choice(("DB_PASSWORD", "API_KEY", "JWT_SECRET", "REDIS_PASSWORD"))
            o.line("      %s:  <set to the key '%s' in secret '%s'>  Optional: false" % (k, r.choice(keys), name))
        k, v = neg_kv(r)
        o.line("      %s:  " % k, v)
    if r.random() < 0.3:
        prompt(o, s, "kubectl get secret ", name, " -o jsonpath='{.metadata.uid}'")
        o.put(N(uuid4(r), "uuid"))


def docker_id(r):
    return hexs(r, 64)


def s_docker(o, s):
    r = o.r
    cid = docker_id(r)
    app = r.choice(PROJECTS)
    python = r.random() < 0.4
    image = ("python:3.12-slim" if python else r.choice(("node:20-alpine", "ghcr.io/acme/%s:2.4.1" % app, "nginx:1.25")))
    if r.random() < 0.5:
        prompt(o, s, "docker ps")
        o.line("CONTAINER ID   IMAGE                        COMMAND                  CREATED        STATUS        PORTS                    NAMES")
        for i in range(r.randint(1, 5)):
            c = cid if i == 0 else docker_id(r)
            o.line(N(c[:12], "random-hex"), "   %-28s %-24s %-14s %-13s %-24s %s" % (
                image if i == 0 else r.choice(("redis:7", "postgres:16", "nginx:1.25")), '"docker-entrypoint.s…"',
                "%d hours ago" % r.randrange(1, 48), "Up %d hours" % r.randrange(1, 48), "0.0.0.0:%d->%d/tcp" % (8000 + i, 8000 + i),
                "%s-%d" % (app, i)))
    if r.random() < 0.3:
        prompt(o, s, "docker pull ", image)
        o.line(image.split(":")[-1], ": Pulling from library/", image.split(":")[0])
        layers = [hexs(r, 12) for _ in range(r.randint(2, 6))]
        for l in layers:
            o.line(N(l, "random-hex"), ": Pulling fs layer")
        for l in layers:
            o.w("\x1b[%dA\x1b[2K" % len(layers))
            o.line(l, ": Pull complete")
        o.line("Digest: sha256:", N(hexs(r, 64), "sha256"))
        o.line("Status: Downloaded newer image for ", image)
    prompt(o, s, "docker inspect ", cid[:12])
    env = ['"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"']
    items = []
    for _ in range(o.nplant(2.5)):
        items.append(kv_plant(o))
    for _ in range(r.randint(0, 3)):
        items.append(neg_kv(r))
    if python:
        items.append(("GPG_KEY", [N("7169605F62C751356D054A26A821E680E5FA6305", "gpg-fingerprint")]))
        items.append(("PYTHON_VERSION", ["3.12.2"]))
        items.append(("PYTHON_SHA256", [N(hexs(r, 64), "sha256")]))
    r.shuffle(items)
    jq = r.random() < 0.3
    q1, q2 = ("\x1b[0;32m", "\x1b[0m") if jq else ("", "")
    o.line("[")
    o.line("    {")
    o.line('        "Id": "', q1, N(cid, "sha256"), q2, '",')
    o.line('        "Created": "%s",' % ts_iso(o.now - 7200, "%09d" % r.randrange(10 ** 9)))
    o.line('        "Path": "docker-entrypoint.sh",')
    o.line('        "Args": [\n            "%s"\n        ],' % r.choice(("node", "gunicorn", "nginx")))
    o.line('        "State": {\n            "Status": "running",\n            "Running": true,\n            "Pid": %d,' % r.randrange(1000, 60000))
    o.line('            "StartedAt": "%s"\n        },' % ts_iso(o.now - 3600))
    o.line('        "Image": "sha256:', N(hexs(r, 64), "sha256"), '",')
    o.line('        "ResolvConfPath": "/var/lib/docker/containers/%s/resolv.conf",' % cid)
    o.line('        "LogPath": "/var/lib/docker/containers/%s/%s-json.log",' % (cid, cid))
    o.line('        "Name": "/%s-1",' % app)
    o.line('        "Config": {')
    o.line('            "Hostname": "%s",' % cid[:12])
    o.line('            "Env": [')
    lines = [env[0]] + [['"', k, "=", v, '"'] for k, v in items]
    if r.random() < 0.05 * o.density:
        k = o.pick(KEYS)
        pk = gen_private_key(r, k).replace("\n", "\\n")
        lines.append(['"DEPLOY_KEY=', S(pk, k), '\\n"'])
    for i, l in enumerate(lines):
        o.line("                ", l, "," if i + 1 < len(lines) else "")
    o.line("            ],")
    o.line('            "Cmd": [\n                "npm",\n                "start"\n            ],')
    o.line('            "Image": "%s",' % image)
    o.line('            "WorkingDir": "/app",')
    o.line('            "Labels": {\n                "com.docker.compose.config-hash": "', N(hexs(r, 64), "sha256"), '",')
    o.line('                "com.docker.compose.project": "%s",\n                "org.opencontainers.image.revision": "' % app,
           N(hexs(r, 40), "git-commit"), '"\n            }')
    o.line("        },")
    o.line('        "NetworkSettings": {')
    o.line('            "SandboxID": "', N(hexs(r, 64), "sha256"), '",')
    o.line('            "MacAddress": "02:42:ac:%02x:%02x:%02x",' % (r.randrange(256), r.randrange(256), r.randrange(256)))
    o.line('            "Networks": {\n                "bridge": {\n                    "NetworkID": "', N(hexs(r, 64), "sha256"), '",')
    o.line('                    "EndpointID": "', N(hexs(r, 64), "sha256"), '",')
    o.line('                    "IPAddress": "172.17.0.%d"\n                }\n            }\n        }' % r.randrange(2, 250))
    o.line("    }")
    o.line("]")
    if r.random() < 0.25:
        if o.nplant(0.5):
            f = o.pick([f for f in KV if f.label == "dockerhub-pat"])
            prompt(o, s, "docker login -u acmebot -p ", f.gen(r))
        else:
            prompt(o, s, "docker login -u acmebot -p ", N("$DOCKER_PASSWORD", "placeholder"))
        o.line("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
        o.line("Login Succeeded")


def commit_msg(r):
    return "%s %s %s" % (r.choice(WORDS).capitalize(), r.choice(WORDS), r.choice(WORDS))


def s_git(o, s):
    r = o.r
    c = r.random()
    if c < 0.45:
        prompt(o, s, "git log", r.choice(("", " -n 5", " --stat -3")))
        for _ in range(r.randint(2, 7)):
            o.line("\x1b[33mcommit ", N(hexs(r, 40), "git-commit"), "\x1b[m",
                   r.choice(("", " (\x1b[1;36mHEAD -> \x1b[1;32m%s\x1b[m)" % s.branch)))
            who = r.choice(NAMES)
            o.line("Author: %s %s <%s@example.com>" % (who, r.choice(SURNAMES), who.lower()))
            o.line("Date:   ", ts_git(o.now - r.randrange(10 ** 6)))
            o.line("")
            o.line("    ", commit_msg(r))
            if r.random() < 0.4:
                o.line("")
                o.line("    ", " ".join(r.choice(WORDS) for _ in range(r.randint(6, 14))))
            if r.random() < 0.2:
                o.line("    ")
                o.line("    Change-Id: I", N(hexs(r, 40), "git-commit"))
                o.line("    Signed-off-by: %s <%s@example.com>" % (who, who.lower()))
            o.line("")
    elif c < 0.6:
        prompt(o, s, "git log --oneline -n 12")
        for _ in range(12):
            o.line("\x1b[33m", N(hexs(r, 7), "git-commit"), "\x1b[m ", commit_msg(r))
    elif c < 0.85:
        sha = hexs(r, 40)
        prompt(o, s, "git show ", sha[:8])
        o.line("\x1b[33mcommit ", N(sha, "git-commit"), "\x1b[m")
        o.line("Author: %s <%s@example.com>" % (r.choice(NAMES), r.choice(USERS)))
        o.line("Date:   ", ts_git(o.now - r.randrange(10 ** 6)))
        o.line("\n    ", commit_msg(r), "\n")
        fn = r.choice(("config/settings.py", ".env.staging", "deploy/values.yaml", "docker-compose.yml", "src/config.js"))
        o.line("\x1b[1mdiff --git a/%s b/%s\x1b[m" % (fn, fn))
        o.line("\x1b[1mindex ", N(hexs(r, 7), "git-commit"), "..", N(hexs(r, 7), "git-commit"), " 100644\x1b[m")
        o.line("\x1b[1m--- a/%s\x1b[m\n\x1b[1m+++ b/%s\x1b[m" % (fn, fn))
        o.line("\x1b[36m@@ -%d,6 +%d,8 @@\x1b[m" % (r.randrange(1, 80), r.randrange(1, 80)))
        for _ in range(r.randint(1, 3)):
            k, v = r.choice(BASE_ENV)
            o.line(" %s=%s" % (k, v))
        for _ in range(o.nplant(1.5)):
            k, v = kv_plant(o)
            o.line("\x1b[32m+", k, "=", v, "\x1b[m")
        k, v = neg_kv(r)
        o.line("\x1b[31m-", k, "=", v, "\x1b[m")
    else:
        prompt(o, s, "git remote -v")
        n = o.nplant(1.0)
        if n:
            f = o.pick([f for f in KV if f.label in ("basic-auth-url", "github-app-token", "gitlab-pat", "github-pat", "bitbucket-app-password")])
            tmpl = [t for t in f.logs if t[0].startswith(("origin", "git "))] or f.logs
            tmpl = r.choice(tmpl)
            v = f.gen(r)
            if f.label == "basic-auth-url":
                v = v[:-1] + ["@git.example.com/%s/%s.git" % (r.choice(USERS), s.proj)]
                for kind in ("(fetch)", "(push)"):
                    o.line("origin\t", v, " ", kind)
            else:
                url = {"github-app-token": ["https://x-access-token:", v, "@github.com/acme/%s.git" % s.proj],
                       "github-pat": ["https://", v, "@github.com/acme/%s.git" % s.proj],
                       "gitlab-pat": ["https://oauth2:", v, "@gitlab.com/acme/%s.git" % s.proj],
                       "bitbucket-app-password": ["https://%s:" % s.user, v, "@bitbucket.org/acme/%s.git" % s.proj]}[f.label]
                for kind in ("(fetch)", "(push)"):
                    o.line("origin\t", url, " ", kind)
        else:
            o.line("origin\tgit@github.com:acme/%s.git (fetch)\norigin\tgit@github.com:acme/%s.git (push)" % (s.proj, s.proj))


def s_ci(o, s):
    r = o.r
    gha = r.random() < 0.65
    t = o.now
    n = [0]

    def L_(*items):
        n[0] += 1
        if gha:
            o.put(ts_iso(t + n[0] // 8, "%07d" % r.randrange(10 ** 7)), " ")
        o.line(*items)
    if gha:
        L_("##[group]Run actions/checkout@v4")
        L_("with:")
        L_("  repository: acme/", s.proj)
        L_("  token: ***")
        L_("  ssh-strict: true")
        L_("##[endgroup]")
        L_("Syncing repository: acme/", s.proj)
        L_("[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules --depth=1 origin +",
           N(hexs(r, 40), "git-commit"), ":refs/remotes/origin/main")
        L_("HEAD is now at ", N(hexs(r, 7), "git-commit"), " ", commit_msg(r))
        L_("##[group]Run npm ci && npm test")
        L_("\x1b[36;1mnpm ci && npm test\x1b[0m")
        L_("shell: /usr/bin/bash -e {0}")
        L_("env:")
        for _ in range(r.randint(1, 3)):
            k, v = r.choice(BASE_ENV)
            L_("  ", k, ": ", v)
        for _ in range(o.nplant(1.2)):
            k, v = kv_plant(o)
            L_("  ", k, ": ", v)
        L_("  ", r.choice(("AWS_SECRET_ACCESS_KEY", "NPM_TOKEN", "DATABASE_URL")), ": ***")
        L_("##[endgroup]")
    else:
        L_("\x1b[0KRunning with gitlab-runner 16.9.1 (782c6ecb)\x1b[0;m")
        L_("\x1b[0K  on docker-runner-%d " % r.randrange(40), N(hexs(r, 8), "random-hex"), ", system ID: s_", N(hexs(r, 12), "random-hex"), "\x1b[0;m")
        L_("\x1b[32;1mGetting source from Git repository\x1b[0;m")
        L_("\x1b[32;1mChecking out ", N(hexs(r, 8), "git-commit"), " as detached HEAD (ref is main)...\x1b[0;m")
        for _ in range(o.nplant(1.2)):
            k, v = kv_plant(o)
            L_("\x1b[32;1m$ export ", k, "=", v, "\x1b[0;m")
    # a script with `set -x` that leaks
    for _ in range(o.nplant(1.3)):
        f = o.pick(KV)
        v = f.gen(r)
        cmds = [t for t in f.logs if t[0].startswith(CMDS)]
        if cmds:
            L_("+ ", [v if p is None else p for p in r.choice(cmds)])
        else:
            L_("+ export ", r.choice(f.names), "=", v)
    L_("")
    L_("added %d packages, and audited %d packages in %ds" % (r.randrange(300, 1500), r.randrange(300, 1500), r.randrange(5, 60)))
    L_("")
    for _ in range(r.randint(2, 6)):
        L_("\x1b[32mPASS\x1b[39m src/%s/%s.test.ts (%.3f s)" % (r.choice(WORDS), r.choice(WORDS), r.random() * 5))
    if r.random() < 0.3:
        L_("\x1b[31mFAIL\x1b[39m src/%s.test.ts" % r.choice(WORDS))
        L_("  ● %s › should %s the %s" % (r.choice(WORDS), r.choice(WORDS), r.choice(WORDS)))
        L_("    Expected: \x1b[32m\"", N(uuid4(r), "uuid"), "\"\x1b[39m")
        L_("    Received: \x1b[31m\"", N(uuid4(r), "uuid"), "\"\x1b[39m")
    L_("Tests:       %d passed, %d total" % (r.randrange(20, 400), r.randrange(400, 500)))
    L_("Cache saved with key: node-cache-Linux-x64-npm-", N(hexs(r, 64), "sha256"))
    if gha:
        L_("Post job cleanup.")
        L_("[command]/usr/bin/git config --local --name-only --get-regexp http\\.https\\:\\/\\/github\\.com\\/\\.extraheader")
        L_("http.https://github.com/.extraheader")
        L_("Cleaning up orphan processes")
    else:
        L_("\x1b[32;1mJob succeeded\x1b[0;m")
    o.now = t + n[0] // 8 + 1


CMDS = ("curl", "git", "docker", "twine", "psql", "redis-cli", "mongosh", "az ", "azcopy", "pip")


def integrity(r):
    return "sha512-" + b64(r.randbytes(64))


def s_npm(o, s):
    r = o.r
    c = r.random()
    if c < 0.4:
        prompt(o, s, r.choice(("npm install", "npm ci", "npm i express@4")))
        for _ in range(r.randint(1, 4)):
            o.line("\x1b[33mnpm\x1b[39m \x1b[43;30mWARN\x1b[49;39m \x1b[35mdeprecated\x1b[39m %s@%d.%d.%d: This module is not supported, and leaks memory."
                   % (r.choice(("inflight", "glob", "rimraf", "uuid", "request")), r.randrange(10), r.randrange(10), r.randrange(10)))
        for i in range(r.randint(3, 10)):
            o.w("\r\x1b[K⠙ reify:%s: \x1b[32mtiming\x1b[39m reifyNode:node_modules/%s Completed in %dms" % (r.choice(WORDS), r.choice(WORDS), r.randrange(900)))
        o.w("\r\x1b[K")
        o.line("")
        o.line("added %d packages, and audited %d packages in %ds" % (r.randrange(100, 1500), r.randrange(100, 1500), r.randrange(3, 60)))
        o.line("")
        o.line("%d packages are looking for funding\n  run `npm fund` for details" % r.randrange(10, 300))
        o.line("")
        o.line("found \x1b[32m\x1b[1m0\x1b[22m\x1b[39m vulnerabilities")
    elif c < 0.7:
        prompt(o, s, "head -n 60 package-lock.json")
        o.line('{\n  "name": "%s",\n  "version": "1.%d.0",\n  "lockfileVersion": 3,\n  "requires": true,\n  "packages": {' % (s.proj, r.randrange(30)))
        for _ in range(r.randint(4, 10)):
            p = r.choice(("express", "lodash", "react", "@babel/core", "typescript", "axios", "debug", "ms", "semver", "chalk"))
            v = "%d.%d.%d" % (r.randrange(20), r.randrange(30), r.randrange(30))
            o.line('    "node_modules/%s": {' % p)
            o.line('      "version": "%s",' % v)
            o.line('      "resolved": "https://registry.npmjs.org/%s/-/%s-%s.tgz",' % (p, p.split("/")[-1], v))
            o.line('      "integrity": "', N(integrity(r), "integrity-hash"), '",')
            o.line('      "dev": true\n    },')
    else:
        prompt(o, s, "cat ~/.npmrc")
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label in ("npm-token", "github-pat")])
            v = f.gen(r)
            host = "registry.npmjs.org" if f.label == "npm-token" else "npm.pkg.github.com"
            o.line("//%s/:_authToken=" % host, v)
        else:
            o.line("//registry.npmjs.org/:_authToken=", N("${NPM_TOKEN}", "placeholder"))
        o.line("@acme:registry=https://npm.pkg.github.com")
        o.line("always-auth=true")
        if r.random() < 0.5:
            prompt(o, s, "npm publish")
            o.line("npm notice \nnpm notice 📦  @acme/%s@1.%d.%d" % (s.proj, r.randrange(9), r.randrange(9)))
            o.line("npm notice === Tarball Details ===")
            o.line("npm notice name:          @acme/", s.proj)
            o.line("npm notice shasum:        ", N(hexs(r, 40), "sha1"))
            o.line("npm notice integrity:     ", N(integrity(r)[:23], "integrity-hash"), "[...]", N(b64(r.randbytes(6)), "integrity-hash"))
            o.line("npm notice total files:   %d" % r.randrange(4, 200))


def s_pip(o, s):
    r = o.r
    c = r.random()
    if c < 0.5:
        prompt(o, s, "pip install -r requirements.txt")
        if r.random() < 0.3:
            o.line("Looking in indexes: https://pypi.org/simple, https://", r.choice(USERS), ":****@nexus.corp.example.com/repository/pypi/simple")
        for _ in range(r.randint(2, 7)):
            p = r.choice(("requests", "urllib3", "certifi", "idna", "charset-normalizer", "boto3", "botocore", "django", "numpy", "pydantic"))
            v = "%d.%d.%d" % (r.randrange(5), r.randrange(40), r.randrange(20))
            o.line("Collecting %s==%s (from -r requirements.txt (line %d))" % (p, v, r.randrange(1, 40)))
            h = hexs(r, 60)
            o.line("  Downloading https://files.pythonhosted.org/packages/%s/%s/%s/%s-%s-py3-none-any.whl (%d kB)"
                   % (h[:2], h[2:4], h[4:], p.replace("-", "_"), v, r.randrange(20, 900)))
            o.line("     \x1b[38;2;114;156;31m━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━\x1b[0m \x1b[32m%d.%d/%d.%d kB\x1b[0m \x1b[31m%.1f MB/s\x1b[0m eta \x1b[36m0:00:00\x1b[0m"
                   % (r.randrange(900), r.randrange(10), r.randrange(900), r.randrange(10), r.random() * 20))
        o.line("Installing collected packages: ", ", ".join(r.sample(WORDS, 4)))
        o.line("Successfully installed ", " ".join("%s-%d.%d" % (w, r.randrange(5), r.randrange(30)) for w in r.sample(WORDS, 4)))
    elif c < 0.7:
        prompt(o, s, "cat requirements.txt")
        for _ in range(r.randint(2, 6)):
            o.line("%s==%d.%d.%d \\" % (r.choice(WORDS), r.randrange(5), r.randrange(30), r.randrange(20)))
            o.line("    --hash=sha256:", N(hexs(r, 64), "sha256"), " \\")
            o.line("    --hash=sha256:", N(hexs(r, 64), "sha256"))
    else:
        prompt(o, s, r.choice(("cat ~/.pypirc", "cat ~/.config/pip/pip.conf")))
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label in ("pypi-token", "basic-auth-url")])
            if f.label == "pypi-token":
                o.line("[distutils]\nindex-servers =\n    pypi\n\n[pypi]\n  username = __token__")
                o.line("  password = ", f.gen(r))
            else:
                o.line("[global]\nindex-url = ", f.gen(r))
                o.line("trusted-host = nexus.corp.example.com")
        else:
            o.line("[pypi]\n  username = __token__\n  password = ", N("<your-pypi-token>", "placeholder"))


def s_psql(o, s):
    r = o.r
    db = r.choice(("app", "prod", "billing", "analytics"))
    if o.nplant(1.0):
        f = o.pick([f for f in KV if f.label == "postgres-uri"])
        prompt(o, s, 'psql "', f.gen(r), '"')
    else:
        prompt(o, s, "psql -h db.internal -U app ", db)
        o.line("Password for user app: ")
    o.line("psql (16.2 (Debian 16.2-1.pgdg120+2), server 15.6)")
    o.line("SSL connection (protocol: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, compression: off)")
    o.line('Type "help" for help.\n')
    o.line(db, "=> \\dt")
    o.line("          List of relations\n Schema |   Name    | Type  |  Owner\n--------+-----------+-------+----------")
    tables = r.sample(("users", "orders", "invoices", "sessions", "events", "api_keys", "audit_log", "payments"), 4)
    for t in tables:
        o.line(" public | %-9s | table | app" % t)
    o.line("(%d rows)\n" % len(tables))
    o.line(db, "=> SELECT id, email, created_at, last_login_ip FROM users ORDER BY created_at DESC LIMIT 5;")
    o.line("                  id                  |          email           |          created_at           | last_login_ip")
    o.line("--------------------------------------+--------------------------+-------------------------------+---------------")
    for _ in range(5):
        who = r.choice(NAMES).lower()
        o.line(" ", N(uuid4(r), "uuid"), " | %-24s | %s.%06d+00 | 10.%d.%d.%d" % ("%s@example.com" % who, ts_log(o.now - r.randrange(10 ** 7)),
                                                                                   r.randrange(10 ** 6), r.randrange(255), r.randrange(255), r.randrange(255)))
    o.line("(5 rows)\n")
    if r.random() < 0.4:
        o.line(db, "=> SELECT id, key_prefix, sha256 FROM api_keys LIMIT 3;")
        o.line("  id  | key_prefix |                              sha256\n------+------------+------------------------------------------------------------------")
        for i in range(3):
            o.line(" %4d | %-10s | " % (r.randrange(10000), "vt_" + rs(r, LOW + DIG, 5)), N(hexs(r, 64), "sha256"))
        o.line("(3 rows)\n")
    o.line(db, "=> \\q")


def s_keys(o, s):
    r = o.r
    c = r.random()
    uh = "%s@%s" % (s.user, s.host)
    if c < 0.15:
        prompt(o, s, "ssh-keygen -t ed25519 -C ", uh)
        o.line("Generating public/private ed25519 key pair.")
        o.line("Your identification has been saved in /home/%s/.ssh/id_ed25519" % s.user)
        o.line("Your public key has been saved in /home/%s/.ssh/id_ed25519.pub" % s.user)
        o.line("The key fingerprint is:\nSHA256:", N(b64(r.randbytes(32)).rstrip("="), "ssh-fingerprint"), " ", uh)
        o.line("The key's randomart image is:\n+--[ED25519 256]--+")
        for _ in range(9):
            o.line("|" + "".join(r.choice("  .  o+=*BOX@%E") for _ in range(17)) + "|")
        o.line("+----[SHA256]-----+")
    if c < 0.35:
        prompt(o, s, "cat ~/.ssh/id_ed25519.pub")
        o.line(N(ssh_pub(r, uh), "ssh-public-key"))
    if r.random() < 0.3:
        prompt(o, s, "openssl x509 -in server.crt")
        o.line(N(certificate(r), "certificate"))
    if r.random() < 0.15:
        prompt(o, s, "cat jwt-public.pem")
        o.line(N(public_key_pem(r), "public-key"))
    if r.random() < 0.12:
        prompt(o, s, "gpg --armor --export ", s.user, "@example.com")
        o.line(N(pgp_block(r, False, "%s <%s@example.com>" % (r.choice(NAMES), s.user)), "pgp-public-key"))
    for _ in range(max(1, o.nplant(2.2))):
        k = o.pick(KEYS + ["pkcs12-base64"])
        if k == "pkcs12-base64":
            prompt(o, s, r.choice(("base64 -w0 keystore.p12", "openssl base64 -A -in client.pfx", "cat cert.p12.b64")))
            o.put(S(pkcs12_b64(r), k))
            o.w("\n" if r.random() < 0.5 else "")
            continue
        fn = {"private-key-rsa": "server.key", "private-key-ec": "ec.key", "private-key-pkcs8": "tls.key",
              "private-key-encrypted": "backup-key.pem", "private-key-openssh": "~/.ssh/id_ed25519",
              "private-key-dsa": "/etc/ssh/ssh_host_dsa_key", "private-key-pgp": None}[k]
        if fn is None:
            prompt(o, s, "gpg --armor --export-secret-keys ", s.user, "@example.com")
        else:
            prompt(o, s, "cat ", fn)
        o.line(S(gen_private_key(r, k), k))


def sa_json(o, pk_items, r, indent=True):
    proj = "%s-%d" % (r.choice(PROJECTS), r.randrange(100000, 999999))
    svc = r.choice(("deployer", "ci", "terraform", "backup", "api"))
    email = "%s@%s.iam.gserviceaccount.com" % (svc, proj)
    fields = [("type", ["service_account"]), ("project_id", [proj]), ("private_key_id", [N(hexs(r, 40), "sha1")]),
              ("private_key", pk_items), ("client_email", [email]), ("client_id", [str(r.randrange(10 ** 20, 10 ** 21))]),
              ("auth_uri", ["https://accounts.google.com/o/oauth2/auth"]), ("token_uri", ["https://oauth2.googleapis.com/token"]),
              ("auth_provider_x509_cert_url", ["https://www.googleapis.com/oauth2/v1/certs"]),
              ("client_x509_cert_url", ["https://www.googleapis.com/robot/v1/metadata/x509/%s" % email.replace("@", "%40")]),
              ("universe_domain", ["googleapis.com"])]
    if indent:
        o.line("{")
        for i, (k, v) in enumerate(fields):
            o.line('  "', k, '": "', v, '"', "," if i + 1 < len(fields) else "")
        o.line("}")
    else:
        o.put("{")
        for i, (k, v) in enumerate(fields):
            o.put("," if i else "", '"', k, '":"', v, '"')
        o.put("}")
    return email


def s_gcp(o, s):
    r = o.r
    c = r.random()
    if c < 0.6:
        if o.nplant(1.0):
            key = pem("PRIVATE KEY", der(0x30, INT0, der(0x30, OID_RSA, NULL), der(0x04, rsa_pkcs1(r))))
            pk = [S(key.replace("\n", "\\n"), "gcp-service-account-key"), "\\n"]
            o.count["gcp-service-account-key"] = o.count.get("gcp-service-account-key", 0) + 1
        else:
            pk = [N("<redacted>", "placeholder")]
        if r.random() < 0.7:
            fn = r.choice(("sa-key.json", "credentials.json", "terraform-sa.json", "/secrets/gcp/key.json"))
            prompt(o, s, "cat ", fn)
            email = sa_json(o, pk, r)
            prompt(o, s, "gcloud auth activate-service-account --key-file=", fn)
            o.line("Activated service account credentials for: [", email, "]")
        else:
            prompt(o, s, "echo $GOOGLE_CREDENTIALS")
            sa_json(o, pk, r, indent=False)
            o.w("\n")
    elif c < 0.8:
        prompt(o, s, "cat app/google-services.json | head -40")
        o.line('{\n  "project_info": {\n    "project_number": "%d",\n    "project_id": "%s-%d",' % (r.randrange(10 ** 11, 10 ** 12), s.proj, r.randrange(1000)))
        o.line('    "storage_bucket": "%s.appspot.com"\n  },\n  "client": [\n    {' % s.proj)
        o.line('      "client_info": {\n        "mobilesdk_app_id": "1:%d:android:' % r.randrange(10 ** 11, 10 ** 12), N(hexs(r, 16), "random-hex"), '"\n      },')
        o.line('      "oauth_client": [\n        {\n          "client_id": "', N("%d-%s.apps.googleusercontent.com" % (r.randrange(10 ** 11, 10 ** 12), rs(r, LOW + DIG, 32)), "oauth-client-id"), '",')
        o.line('          "client_type": 3\n        }\n      ],')
        o.put('      "api_key": [\n        {\n          "current_key": "')
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label == "gcp-api-key"])
            o.put(f.gen(r))
        else:
            o.put(N("AIzaSy" + "X" * 33, "placeholder"))
        o.line('"\n        }\n      ]')
    else:
        prompt(o, s, "gcloud config list")
        o.line("[core]\naccount = %s@example.com\ndisable_usage_reporting = True\nproject = %s-%d" % (s.user, s.proj, r.randrange(1000)))
        o.line("\nYour active configuration is: [default]")
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label == "gcp-api-key"])
            prompt(o, s, f.logs[0][0], f.gen(r), f.logs[0][2])
            o.line('{\n   "results" : [],\n   "status" : "ZERO_RESULTS"\n}')


def s_curl(o, s):
    r = o.r
    f = o.pick([f for f in KV if f.logs]) if o.nplant(1.0) else None
    host = "api.example.com"
    if f is not None:
        t = [t for t in f.logs if t[0].startswith("curl")]
        v = f.gen(r)
        if t:
            t = r.choice(t)
            cmd = [v if p is None else p for p in t]
            prompt(o, s, cmd[0].replace("curl ", "curl -v ", 1), cmd[1:])
        else:
            t = r.choice(f.logs)
            prompt(o, s, "echo 'config:'; grep -h ", r.choice(f.names), " *.log")
            o.line([v if p is None else p for p in t])
    else:
        prompt(o, s, "curl -v https://", host, "/v1/health")
    ip = "%d.%d.%d.%d" % (r.randrange(1, 223), r.randrange(255), r.randrange(255), r.randrange(255))
    o.line("*   Trying %s:443..." % ip)
    o.line("* Connected to %s (%s) port 443" % (host, ip))
    o.line("* ALPN: curl offers h2,http/1.1")
    o.line("* TLSv1.3 (OUT), TLS handshake, Client hello (1):")
    o.line("* TLSv1.3 (IN), TLS handshake, Server hello (2):")
    o.line("* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384 / X25519 / id-ecdsa-with-SHA256")
    o.line("* Server certificate:\n*  subject: CN=%s\n*  start date: Jan 12 00:00:00 2024 GMT\n*  expire date: Apr 11 23:59:59 2024 GMT" % host)
    o.line("> GET /v1/me HTTP/2\n> Host: %s\n> User-Agent: curl/8.5.0\n> Accept: */*" % host)
    if f is None and o.nplant(0.5):
        g = o.pick([x for x in KV if x.label == "jwt"])
        o.line("> Authorization: Bearer ", g.gen(r))
    o.line(">\n< HTTP/2 200\n< content-type: application/json; charset=utf-8")
    o.line("< x-request-id: ", N(uuid4(r), "uuid"))
    o.line('< etag: W/"', N(hexs(r, 40), "sha1"), '"')
    o.line("< x-amzn-trace-id: Root=1-%08x-" % (o.now & 0xFFFFFFFF), N(hexs(r, 24), "random-hex"))
    o.line("<")
    if r.random() < 0.35 and o.nplant(1.0):
        g = o.pick([x for x in KV if x.label == "jwt"])
        rt = S(b64u(r.randbytes(48)), "secret-assignment")
        o.count["secret-assignment:g_secret"] = o.count.get("secret-assignment:g_secret", 0) + 1
        o.line('{"access_token":"', g.gen(r), '","token_type":"Bearer","expires_in":3600,"refresh_token":"', rt,
               '","scope":"openid profile"}')
    else:
        o.line('{"id":"', N(uuid4(r), "uuid"), '","email":"%s@example.com","org":"acme","roles":["member"],"etag":"' % s.user,
               N(hexs(r, 32), "md5"), '"}')
    o.line("* Connection #0 to host %s left intact" % host)


def s_aws(o, s):
    r = o.r
    c = r.random()
    if c < 0.5:
        prompt(o, s, "cat ~/.aws/credentials")
        for prof in r.sample(("default", "prod", "staging", "ci", "personal"), r.randint(1, 3)):
            o.line("[", prof, "]")
            if o.nplant(1.0):
                a = o.pick([f for f in KV if f.label == "aws-access-key-id"])
                b = o.pick([f for f in KV if f.label == "aws-secret-access-key"])
                o.line("aws_access_key_id = ", a.gen(r))
                o.line("aws_secret_access_key = ", b.gen(r))
            else:
                o.line("aws_access_key_id = ", N("AKIAIOSFODNN7EXAMPLE", "aws-example-key"))
                o.line("aws_secret_access_key = ", N("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-example-key"))
            if r.random() < 0.4:
                o.line("region = ", r.choice(("us-east-1", "eu-west-1", "ap-southeast-2")))
            o.line("")
    elif c < 0.75:
        prompt(o, s, "aws configure list")
        o.line("      Name                    Value             Type    Location\n      ----                    -----             ----    --------")
        o.line("   profile                <not set>             None    None")
        o.line("access_key     ****************%s shared-credentials-file    " % rs(r, B32, 4))
        o.line("secret_key     ****************%s shared-credentials-file    " % rs(r, ALNUM, 4))
        o.line("    region                us-east-1      config-file    ~/.aws/config")
        prompt(o, s, "aws sts get-caller-identity")
        o.line('{\n    "UserId": "AIDA', rs(r, B32, 17), '",\n    "Account": "%012d",' % r.randrange(10 ** 12))
        o.line('    "Arn": "arn:aws:iam::%012d:user/%s"\n}' % (r.randrange(10 ** 12), s.user))
    else:
        prompt(o, s, "aws configure")
        o.line("AWS Access Key ID [None]: ", N("AKIAIOSFODNN7EXAMPLE", "aws-example-key"))
        o.line("AWS Secret Access Key [None]: ", N("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws-example-key"))
        o.line("Default region name [None]: us-west-2\nDefault output format [None]: json")


def minified_js(r, n):
    out = ['!function(e,t){"object"==typeof exports&&"undefined"!=typeof module?module.exports=t():"function"==typeof define&&define.amd?define(t):(e=e||self).App=t()}(this,function(){"use strict";']
    size = len(out[0])
    ids = ["e", "t", "n", "r", "o", "i", "a", "s", "u", "c", "l", "f", "d", "p", "h", "m", "v", "g", "y", "b"]
    while size < n:
        x = r.random()
        a, b, c = r.choice(ids), r.choice(ids), r.choice(ids)
        if x < 0.2:
            s = 'var %s=function(%s,%s){return %s.call(%s,"%s")};' % (a, b, c, b, c, r.choice(WORDS))
        elif x < 0.35:
            s = '%s.prototype.%s=function(){if(!this.%s)throw new Error("%s %s");return this.%s}' % (a, r.choice(WORDS), r.choice(WORDS), r.choice(WORDS), r.choice(WORDS), r.choice(WORDS))
        elif x < 0.5:
            s = 'const %s="css-%s",%s="%s";' % (a, rs(r, LOW + DIG, 6), b, hexs(r, 20))
        elif x < 0.6:
            s = '%s[%d]=[function(%s,%s,%s){%s.exports="static/media/logo.%s.svg"},{}],' % (a, r.randrange(999), a, b, c, b, hexs(r, 8))
        elif x < 0.7:
            s = 'for(var %s=0;%s<%s.length;%s++)%s[%s]=%s.charCodeAt(%s)^%d;' % (a, a, b, a, c, a, b, a, r.randrange(255))
        elif x < 0.78:
            s = 'var %s="%s";' % (a, rs(r, ALNUM + "+/", r.randint(20, 60)))  # opaque string constants
        elif x < 0.86:
            s = '%s.%s=%s(%s,{%s:!0,%s:void 0,%s:null});' % (a, r.choice(WORDS), b, c, r.choice(WORDS), r.choice(WORDS), r.choice(WORDS))
        else:
            s = 'return %s&&%s.%s?%s.%s(%s):%s||{}' % (a, a, r.choice(WORDS), a, r.choice(WORDS), b, c)
        out.append(s)
        size += len(s)
    out.append("});")
    return "".join(out)


def s_web(o, s):
    r = o.r
    if r.random() < 0.5:
        prompt(o, s, "head -c %d dist/assets/index-%s.js" % (r.randrange(2000, 8000), hexs(r, 8)))
        js = minified_js(r, r.randrange(1500, 6000))
        o.put(N(js, "minified-js"))
        if r.random() < 0.5:
            sm = b64(json.dumps({"version": 3, "sources": ["src/%s.ts" % w for w in r.sample(WORDS, 3)],
                                 "mappings": rs(r, ALNUM + ";,", 400)}).encode())
            o.put("\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,", N(sm, "base64-sourcemap"))
        o.w("\n")
    else:
        prompt(o, s, "curl -s https://www.example.com/ | head -c 6000")
        o.line('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>' % s.proj)
        o.line('<link rel="stylesheet" href="/static/css/main.%s.css" integrity="sha384-' % hexs(r, 8), N(b64(r.randbytes(48)), "integrity-hash"), '" crossorigin="anonymous">')
        for _ in range(r.randint(1, 4)):
            kind = r.choice(("png", "png", "gif", "svg+xml", "webp"))
            head = {"png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "gif": b"GIF89a", "svg+xml": b'<svg xmlns="http://www.w3.org/2000/svg"',
                    "webp": b"RIFF\x00\x00\x00\x00WEBPVP8 "}[kind]
            data = b64(head + r.randbytes(r.randrange(60, 3000)))
            o.line('<img alt="%s" src="data:image/%s;base64,' % (r.choice(WORDS), kind), N(data, "base64-image"), '">')
        o.line('<script src="/static/js/main.%s.js" integrity="' % hexs(r, 8), N("sha384-" + b64(r.randbytes(48)), "integrity-hash"), '"></script>')
        o.line('<script>window.__CONFIG__={"buildId":"', N(hexs(r, 40), "git-commit"), '","sentry":"https://', N(hexs(r, 32), "sentry-dsn-public-key"),
               '@o%d.ingest.sentry.io/%d"}</script>' % (r.randrange(10 ** 5, 10 ** 6), r.randrange(10 ** 6, 10 ** 7)))
        o.line("</head><body><div id=\"root\"></div></body></html>")


def s_noise(o, s):
    r = o.r
    for _ in range(r.randint(1, 3)):
        c = r.randrange(10)
        if c == 0:
            prompt(o, s, "ls -la")
            o.line("total %d" % r.randrange(20, 400))
            for _ in range(r.randint(4, 12)):
                nm = r.choice(WORDS) + r.choice(("", ".py", ".js", ".md", ".json", ".yaml", ".sh", ".log"))
                d = r.random() < 0.3
                o.line("%s 1 %s %s %6d %s %s" % ("drwxr-xr-x" if d else "-rw-r--r--", s.user, s.user, r.randrange(10 ** 5),
                                                   time.strftime("%b %d %H:%M", time.gmtime(o.now - r.randrange(10 ** 7))),
                                                   ("\x1b[01;34m%s\x1b[0m" % nm) if d else nm))
        elif c == 1:
            prompt(o, s, "sha256sum dist/*")
            for _ in range(r.randint(2, 6)):
                o.line(N(hexs(r, 64), "sha256"), "  dist/%s-%d.%d.%d.tar.gz" % (r.choice(WORDS), r.randrange(5), r.randrange(30), r.randrange(9)))
        elif c == 2:
            prompt(o, s, r.choice(("uuidgen", "cat /proc/sys/kernel/random/uuid", "python3 -c 'import uuid; print(uuid.uuid4())'")))
            o.line(N(uuid4(r), "uuid"))
        elif c == 3:
            prompt(o, s, "openssl rand -hex %d" % r.choice((16, 32)))
            o.line(N(hexs(r, r.choice((32, 64))), "random-hex"))
        elif c == 4:
            prompt(o, s, "ps aux | head")
            o.line("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND")
            for _ in range(r.randint(3, 9)):
                o.line("%-10s %5d %4.1f %4.1f %6d %5d ?        Ss   %s   0:%02d %s" % (r.choice(USERS + ["root"]), r.randrange(1, 99999), r.random() * 9, r.random() * 9,
                                                                                  r.randrange(10 ** 6), r.randrange(10 ** 5), time.strftime("%H:%M", time.gmtime(o.now)),
                                                                                  r.randrange(60), r.choice(("/sbin/init", "nginx: worker process", "node server.js", "/usr/bin/containerd", "postgres: checkpointer"))))
        elif c == 5:
            prompt(o, s, "journalctl -u %s --since today | tail" % s.proj)
            for _ in range(r.randint(3, 10)):
                o.line(time.strftime("%b %d %H:%M:%S ", time.gmtime(o.tick(1, 20))), s.host, " %s[%d]: " % (s.proj, r.randrange(100, 9999)),
                       "level=info msg=\"request done\" method=%s path=/v1/%s status=%d dur=%dms req_id=" % (r.choice(("GET", "POST")), r.choice(WORDS), r.choice((200, 200, 201, 404, 500)), r.randrange(400)),
                       N(uuid4(r) if r.random() < 0.5 else hexs(r, 32), "uuid"), " trace_id=", N(hexs(r, 32), "random-hex"))
        elif c == 6:
            prompt(o, s, "head go.sum")
            for _ in range(r.randint(3, 8)):
                m = "github.com/%s/%s v%d.%d.%d" % (r.choice(USERS), r.choice(WORDS), r.randrange(3), r.randrange(20), r.randrange(10))
                o.line(m, " h1:", N(b64(r.randbytes(32)), "go-sum-hash"))
                o.line(m, "/go.mod h1:", N(b64(r.randbytes(32)), "go-sum-hash"))
        elif c == 7:
            prompt(o, s, "terraform plan")
            o.line("\x1b[0m\x1b[1mdata.aws_caller_identity.current: Reading...\x1b[0m")
            for _ in range(r.randint(1, 4)):
                o.line("\x1b[0m\x1b[1maws_db_instance.%s: Refreshing state... [id=db-%s]\x1b[0m" % (r.choice(WORDS), rs(r, UP + DIG, 26)))
            o.line("  \x1b[33m~\x1b[0m resource \"aws_db_instance\" \"main\" {\n      \x1b[33m~\x1b[0m password = (sensitive value)")
            o.line("        id       = \"", N(hexs(r, 32), "random-hex"), "\"\n    }")
            o.line("\x1b[1mPlan:\x1b[0m 0 to add, 1 to change, 0 to destroy.")
        elif c == 8:
            prompt(o, s, "docker images")
            o.line("REPOSITORY                  TAG       IMAGE ID       CREATED        SIZE")
            for _ in range(r.randint(2, 6)):
                o.line("%-27s %-9s " % (r.choice(("ghcr.io/acme/" + r.choice(PROJECTS), "postgres", "redis", "node")), r.choice(("latest", "16", "7", "20-alpine"))),
                       N(hexs(r, 12), "random-hex"), "   %d days ago    %dMB" % (r.randrange(1, 90), r.randrange(20, 900)))
        else:
            prompt(o, s, "md5sum *.iso")
            o.line(N(hexs(r, 32), "md5"), "  debian-12.5.0-amd64-netinst.iso")


def s_db_cli(o, s):
    r = o.r
    c = r.random()
    if c < 0.3:
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label == "redis-uri"])
            prompt(o, s, "redis-cli -u ", f.gen(r))
            o.line("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.")
        else:
            prompt(o, s, "redis-cli -h redis-master")
        o.line("redis-master:6379> PING\nPONG\nredis-master:6379> GET session:", N(hexs(r, 32), "random-hex"))
        o.line('"{\\"user_id\\":\\"', N(uuid4(r), "uuid"), '\\",\\"csrf\\":\\"', N(hexs(r, 40), "random-hex"), '\\"}"')
        o.line("redis-master:6379> exit")
    elif c < 0.6:
        if o.nplant(1.0):
            f = o.pick([f for f in KV if f.label == "mongodb-uri"])
            prompt(o, s, "mongosh '", f.gen(r), "'")
        else:
            prompt(o, s, "mongosh mongodb://localhost:27017/app")
        o.line("Current Mongosh Log ID:\t", N(hexs(r, 24), "random-hex"))
        o.line("Connecting to:\t\t\x1b[32mmongodb+srv://<credentials>@cluster0.%s.mongodb.net/?appName=mongosh+2.1.5\x1b[0m" % rs(r, LOW + DIG, 5))
        o.line("Using MongoDB:\t\t7.0.6\nUsing Mongosh:\t\t2.1.5\n")
        o.line("Atlas atlas-%s-shard-0 [primary] app> db.users.findOne()" % rs(r, LOW + DIG, 6))
        o.line("{\n  _id: ObjectId('", N(hexs(r, 24), "random-hex"), "'),\n  email: '%s@example.com',\n  createdAt: ISODate('%s')\n}" % (s.user, ts_iso(o.now - 999)))
    elif c < 0.8:
        prompt(o, s, "celery -A app worker -l info")
        o.line(" \n -------------- celery@%s v5.3.6 (emerald-rush)\n--- ***** ----- " % s.host)
        o.line("- ** ---------- .> app:         app:0x7f%s" % hexs(r, 10))
        o.line("- ** ---------- .> transport:   amqp://%s:**@rabbitmq:5672//" % r.choice(("guest", "celery")))
        o.line("- ** ---------- .> results:     redis://:**@redis-master:6379/0")
        o.line("[%s,%03d: INFO/MainProcess] Connected to amqp://celery:**@rabbitmq:5672//" % (ts_log(o.now), r.randrange(1000)))
        o.line("[%s,%03d: INFO/MainProcess] celery@%s ready." % (ts_log(o.now + 1), r.randrange(1000), s.host))
        for _ in range(r.randint(1, 4)):
            o.line("[%s,%03d: INFO/MainProcess] Task app.tasks.%s[" % (ts_log(o.tick(1, 10)), r.randrange(1000), r.choice(WORDS)), N(uuid4(r), "uuid"), "] received")
    else:
        prompt(o, s, "tail -n 20 /var/log/%s/app.log" % s.proj)
        for _ in range(r.randint(3, 8)):
            o.line("%s,%03d INFO [%s] %s %s" % (ts_log(o.tick(1, 30)), r.randrange(1000), r.choice(WORDS), r.choice(WORDS), r.choice(WORDS)))
        for _ in range(o.nplant(1.5)):
            f = o.pick([f for f in KV if f.label in ("mysql-uri", "amqp-uri", "postgres-uri", "mongodb-uri", "redis-uri")])
            t = r.choice(f.logs)
            o.line("%s,%03d INFO " % (ts_log(o.tick(1, 30)), r.randrange(1000)), [f.gen(r) if p is None else p for p in t])


def s_config(o, s):
    r = o.r
    c = r.random()
    items = [kv_plant(o) for _ in range(o.nplant(2.5))] + [neg_kv(r) for _ in range(r.randint(1, 3))]
    r.shuffle(items)
    if c < 0.3:
        prompt(o, s, "cat docker-compose.yml")
        o.line("services:\n  %s:\n    image: ghcr.io/acme/%s:latest\n    ports:\n      - \"8080:8080\"\n    environment:" % (s.proj, s.proj))
        for k, v in items:
            o.line("      ", k, ": ", v)
        o.line("    depends_on:\n      - db\n  db:\n    image: postgres:16\n    volumes:\n      - pgdata:/var/lib/postgresql/data")
    elif c < 0.5:
        prompt(o, s, "cat src/main/resources/application.properties")
        o.line("server.port=8080\nspring.application.name=%s" % s.proj)
        for k, v in items:
            o.line("app.", k.lower().replace("_", "."), "=", v)
        o.line("management.endpoints.web.exposure.include=health,info")
    elif c < 0.7:
        prompt(o, s, "cat config/settings.json")
        o.line("{")
        o.line('  "name": "%s",' % s.proj)
        o.line('  "build": "', N(hexs(r, 40), "git-commit"), '",')
        for k, v in items:
            o.line('  "', k, '": "', v, '",')
        o.line('  "features": {"beta": true}\n}')
    elif c < 0.85:
        prompt(o, s, "cat terraform.tfvars")
        for k, v in items:
            o.line(k.lower(), ' = "', v, '"')
    else:
        prompt(o, s, "cat config/%s.yaml" % r.choice(("production", "staging", "values")))
        o.line("app:\n  name: %s\n  replicas: %d\n  env:" % (s.proj, r.randrange(1, 8)))
        for k, v in items:
            o.line("    ", k.lower(), ": ", v)
        if r.random() < 0.15 * o.density:
            k = o.pick(KEYS)
            o.line("  tls:\n    key: |")
            o.line("      ", S(gen_private_key(r, k).replace("\n", "\n      "), k))


def s_azure(o, s):
    r = o.r
    acct = rs(r, LOW + DIG, 10)
    if r.random() < 0.5:
        prompt(o, s, "az storage account show-connection-string -n %s -g rg-%s" % (acct, s.proj))
        o.put('{\n  "connectionString": "DefaultEndpointsProtocol=https;EndpointSuffix=core.windows.net;AccountName=%s;AccountKey=' % acct)
        if o.nplant(1.0):
            o.pick([f for f in KV if f.key == "azure-storage-key:g_azure_key"])
            o.put(S(azure_key(r), "azure-storage-key"))
        else:
            o.put(N("<account-key>", "placeholder"))
        o.line(';BlobEndpoint=https://%s.blob.core.windows.net/"\n}' % acct)
    else:
        prompt(o, s, "az storage blob generate-sas --account-name %s -c backups -n db.dump --permissions r --expiry 2024-12-31 -o tsv" % acct)
        if o.nplant(1.0):
            o.pick([f for f in KV if f.label == "azure-sas-token"])
            o.line(sas_query(r, o.now), S(sas_sig(r), "azure-sas-token"))
        else:
            o.line(sas_query(r, o.now), "-REDACTED-")
        prompt(o, s, "azcopy copy 'https://%s.blob.core.windows.net/backups/db.dump?sv=2022-11-02&sig=-REDACTED-' ." % acct)
        o.line("INFO: Scanning...\nINFO: Any empty folders will not be processed, because source and/or destination doesn't have full folder support\n")
        o.line("Job ", N(uuid4(r), "uuid"), " has started\nLog file is located at: /root/.azcopy/", N(uuid4(r), "uuid"), ".log")
        o.line("\n100.0 %%, 1 Done, 0 Failed, 0 Pending, 0 Skipped, 1 Total, 2-sec Throughput (Mb/s): %.4f" % (r.random() * 900))


SESSIONS = [
    (s_env, 10), (s_dotenv, 9), (s_kubectl, 11), (s_docker, 7), (s_git, 8), (s_ci, 9), (s_npm, 6), (s_pip, 5),
    (s_psql, 4), (s_keys, 9), (s_gcp, 5), (s_curl, 8), (s_aws, 5), (s_web, 5), (s_noise, 10), (s_db_cli, 6),
    (s_config, 7), (s_azure, 3),
]


def parse_size(v):
    m = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    v = v.strip().lower().rstrip("b").rstrip("i")
    if v and v[-1] in m:
        return int(float(v[:-1]) * m[v[-1]])
    return int(v)


def generate(f, seed, size, nosec, density, only=None):
    r = Random(seed)
    o = Out(f, r, nosec, density)
    sess = [x for x in SESSIONS if only is None or x[0].__name__[2:] in only]
    funcs = [x[0] for x in sess]
    weights = [x[1] for x in sess]
    while o.off < size:
        fn = r.choices(funcs, weights)[0]
        s = Sess(o)
        o.crlf = r.random() < 0.35
        o.tick(5, 600)
        fn(o, s)
        if r.random() < 0.5:
            prompt(o, s, "")
        o.crlf = False
    o.flush()
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", default="2M", help="at least this many bytes (suffix K, M, G); default 2M")
    ap.add_argument("--out", "-o", help="the corpus file ('-': stdout)")
    ap.add_argument("--labels", help="write the planted spans here (JSON)")
    ap.add_argument("--negatives", help="write the hard-negative spans here (JSON)")
    ap.add_argument("--no-secrets", action="store_true", help="plant placeholders instead of secrets")
    ap.add_argument("--density", type=float, default=1.0, help="scales how many secrets each session plants")
    ap.add_argument("--sessions", help="only these kinds of session (comma-separated, see --list-sessions)")
    ap.add_argument("--list-sessions", action="store_true", help="print the kinds of session and exit")
    ap.add_argument("--stats", action="store_true", help="counts per format on stderr")
    a = ap.parse_args()
    names = [fn.__name__[2:] for fn, _ in SESSIONS]
    if a.list_sessions:
        print(" ".join(names))
        return
    only = None
    if a.sessions:
        only = set(a.sessions.split(","))
        if not only <= set(names):
            ap.error("unknown session kinds: %s (known: %s)" % (", ".join(sorted(only - set(names))), " ".join(names)))
    size = parse_size(a.size)
    if not a.out:
        ap.error("--out is required")
    f = sys.stdout.buffer if a.out == "-" else open(a.out, "wb")
    o = generate(f, a.seed, size, a.no_secrets, a.density, only)
    if f is not sys.stdout.buffer:
        f.close()
    if a.labels:
        with open(a.labels, "w") as lf:
            json.dump([{"start": s, "end": e, "format": k} for s, e, k in o.labels], lf, separators=(",", ":"))
    if a.negatives:
        with open(a.negatives, "w") as nf:
            json.dump([{"start": s, "end": e, "kind": k} for s, e, k in o.negs], nf, separators=(",", ":"))
    if a.stats:
        per = {}
        for _, _, k in o.labels:
            per[k] = per.get(k, 0) + 1
        neg = {}
        for _, _, k in o.negs:
            neg[k] = neg.get(k, 0) + 1
        sys.stderr.write("corpus: %d bytes, %d planted secrets in %d formats, %d hard negatives\n"
                         % (o.off, len(o.labels), len(per), len(o.negs)))
        for k in ALL_FORMATS:
            sys.stderr.write("  %-28s %d\n" % (k, per.get(k, 0)))
        sys.stderr.write("hard negatives: %s\n" % ", ".join("%s %d" % kv for kv in sorted(neg.items())))


if __name__ == "__main__":
    main()
