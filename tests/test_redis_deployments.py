"""Redis as districts deploy it: a password, TLS (rediss:// with a provider's CA, against Debian's
redis-server, which is built with TLS, unlike the embedded one), and Sentinel; /healthz says which
(never the password). TLS tests skip with a reason when /usr/bin/redis-server is missing, except when
HOTLINE_REQUIRE_TLS_REDIS=1 (CI: .ci/run installs it), where that fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from conftest import FRONT_DESK, LEGAL, STAFF_LINE
from hotline.redis_server import free_port, redis_server_binary
from hotline.redis_urls import BadRedisURL, RedisTLS, describe, open_redis, parse_sentinel
from hotline.settings import settings_from_env
from hotline.problems import ConfigError

DEBIAN_REDIS = Path("/usr/bin/redis-server")
PASSWORD = "s3cret-redis-password"


# --- URLs and settings ----------------------------------------------------------------------------

def test_sentinel_urls_are_read():
    found = parse_sentinel("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380/hotline-master/2"
                           "?sentinel_password=sp")
    assert found.hosts == (("10.0.0.1", 26379), ("10.0.0.2", 26380))
    assert (found.service, found.db, found.password, found.sentinel_password, found.tls) == \
        ("hotline-master", 2, "pw", "sp", False)
    assert parse_sentinel("rediss+sentinel://s1:26379/mymaster").tls
    for bad in ("redis+sentinel://s1:26379", "redis+sentinel://s1/mymaster", "redis+sentinel://s1:26379/a/b/c"):
        with pytest.raises(BadRedisURL):
            parse_sentinel(bad)


def test_describe_never_shows_the_password():
    assert describe("redis://:hunter2@cache:6379/0") == {"mode": "redis", "password": True, "tls": False}
    tls = describe("rediss://default:hunter2@cache.example.com:6380/0", RedisTLS(ca_certs="/etc/ca.pem"))
    assert tls == {"mode": "redis", "password": True, "tls": True, "verify": "required", "ca": "given",
                   "client_certificate": False}
    sentinel = describe("redis+sentinel://:hunter2@s1:26379,s2:26379/mymaster")
    assert sentinel == {"mode": "sentinel", "service": "mymaster", "sentinels": 2, "password": True, "tls": False}
    assert "hunter2" not in repr([tls, sentinel])


@pytest.mark.parametrize("env,key,words", [
    ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL", "not a Redis URL scheme"),
    ({"REDIS_URL": "redis+sentinel://s1:26379"}, "REDIS_URL", "names no service"),
    ({"REDIS_URL": "rediss://cache:6380", "HOTLINE_REDIS_VERIFY": "maybe"}, "HOTLINE_REDIS_VERIFY", "not known"),
    ({"REDIS_URL": "rediss://cache:6380", "HOTLINE_REDIS_CA_CERTS": "/nowhere/ca.pem"}, "HOTLINE_REDIS_CA_CERTS",
     "is not a file"),
])
def test_bad_redis_settings_name_the_variable_and_the_fix(env, key, words):
    with pytest.raises(ConfigError) as raised:
        settings_from_env(env)
    [problem] = [p for p in raised.value.problems if p.key == key]
    assert words in problem.message and problem.fix


# --- A Redis with a password ----------------------------------------------------------------------

class RedisProcess:
    """A redis-server we start with our own arguments (the embedded binary, or Debian's for TLS)."""

    def __init__(self, binary: str, folder: Path, *args: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([binary, *args], cwd=folder, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_for(client: redis.Redis, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def plain_args(port: int) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]


@pytest.fixture
def password_redis(tmp_path):
    port = free_port()
    server = RedisProcess(redis_server_binary(), tmp_path / "pw", *plain_args(port), "--requirepass", PASSWORD)
    wait_for(redis.Redis(port=port, password=PASSWORD))
    yield port
    server.stop()


def ice_reaches_legal(hotline) -> None:
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert hotline.fake.messages_to(LEGAL), "the legal office was texted through this Redis"


def test_a_redis_with_a_password(make_hotline, password_redis):
    hotline = make_hotline(redis_url=f"redis://:{PASSWORD}@127.0.0.1:{password_redis}/0")
    ice_reaches_legal(hotline)
    health = hotline.app.test_client().get("/healthz").get_json()
    assert health["redis"] is True
    assert health["redis_connection"] == {"mode": "redis", "password": True, "tls": False}
    assert PASSWORD not in str(health)


def test_a_wrong_password_is_an_unhealthy_redis_not_a_crash(make_hotline, password_redis):
    hotline = make_hotline(redis_url=f"redis://:wrong@127.0.0.1:{password_redis}/0")
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ICE")[0]
    assert "AUTOMATIC NOTIFICATION FAILED" in reply, "the staff member still gets the protocol and is told"
    response = hotline.app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["error"] == "AuthenticationError"


# --- TLS against Debian's redis-server -----------------------------------------------------------

def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path, name: str = "ca") -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 / localhost that it signed."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=test {name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=folder)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
            "-out", "server.csr", cwd=folder)
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", f"{name}.pem", "-CAkey", f"{name}.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=folder)
    return {"ca": folder / f"{name}.pem", "cert": folder / "server.pem", "key": folder / "server.key"}


@pytest.fixture
def tls_redis(tmp_path):
    missing = None if DEBIAN_REDIS.exists() else f"{DEBIAN_REDIS} is not installed (apt-get install redis-server)"
    if missing is None and not shutil.which("openssl"):
        missing = "openssl is not installed"
    if missing:
        if os.environ.get("HOTLINE_REQUIRE_TLS_REDIS") == "1":
            pytest.fail(f"HOTLINE_REQUIRE_TLS_REDIS=1 but {missing}")
        pytest.skip(missing)
    certificates = make_certificates(tmp_path / "certs")
    port = free_port()
    server = RedisProcess(str(DEBIAN_REDIS), tmp_path / "tls", "--port", "0", "--tls-port", str(port),
                          "--bind", "127.0.0.1", "--tls-cert-file", str(certificates["cert"]),
                          "--tls-key-file", str(certificates["key"]), "--tls-ca-cert-file", str(certificates["ca"]),
                          "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no")
    wait_for(redis.Redis(host="localhost", port=port, password=PASSWORD, ssl=True,
                         ssl_ca_certs=str(certificates["ca"])))
    yield port, certificates
    server.stop()


def test_rediss_with_the_providers_ca(make_hotline, tls_redis):
    port, certificates = tls_redis
    hotline = make_hotline(redis_url=f"rediss://:{PASSWORD}@localhost:{port}/0",
                           redis_tls=RedisTLS(ca_certs=str(certificates["ca"])))
    ice_reaches_legal(hotline)
    health = hotline.app.test_client().get("/healthz").get_json()
    assert health["redis"] is True
    assert health["redis_connection"] == {"mode": "redis", "password": True, "tls": True, "verify": "required",
                                          "ca": "given", "client_certificate": False}


def test_rediss_refuses_a_certificate_it_cannot_verify(make_hotline, tls_redis, tmp_path):
    port, _ = tls_redis
    other_ca = make_certificates(tmp_path / "other", name="other")["ca"]
    hotline = make_hotline(redis_url=f"rediss://:{PASSWORD}@localhost:{port}/0",
                           redis_tls=RedisTLS(ca_certs=str(other_ca)))
    response = hotline.app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["redis"] is False


def test_rediss_without_verification_when_the_provider_gives_no_ca(tls_redis):
    port, _ = tls_redis
    client = open_redis(f"rediss://:{PASSWORD}@localhost:{port}/0", decode=True, tls=RedisTLS(verify="none"))
    assert client.ping()


# --- Sentinel ---------------------------------------------------------------------------------------

@pytest.fixture
def sentinel_redis(tmp_path):
    master_port, sentinel_port = free_port(), free_port()
    master = RedisProcess(redis_server_binary(), tmp_path / "master", *plain_args(master_port),
                          "--requirepass", PASSWORD)
    wait_for(redis.Redis(port=master_port, password=PASSWORD))
    config = tmp_path / "sentinel" / "sentinel.conf"
    config.parent.mkdir()
    config.write_text(f"port {sentinel_port}\nbind 127.0.0.1\n"
                      f"sentinel monitor hotline-master 127.0.0.1 {master_port} 1\n"
                      f"sentinel auth-pass hotline-master {PASSWORD}\n")
    sentinel = RedisProcess(redis_server_binary(), config.parent, str(config), "--sentinel")
    wait_for(redis.Redis(port=sentinel_port))
    yield sentinel_port
    sentinel.stop()
    master.stop()


def test_sentinel_finds_the_master(make_hotline, sentinel_redis):
    hotline = make_hotline(redis_url=f"redis+sentinel://:{PASSWORD}@127.0.0.1:{sentinel_redis}/hotline-master/0")
    ice_reaches_legal(hotline)
    health = hotline.app.test_client().get("/healthz").get_json()
    assert health["redis"] is True
    assert health["redis_connection"] == {"mode": "sentinel", "service": "hotline-master", "sentinels": 1,
                                          "password": True, "tls": False}
