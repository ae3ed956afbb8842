"""How each engine trusts the run's CA and resolves origin D's name, per browser instance, with nothing changed
system-wide (harness/tls/README.md §3 proves each way with good and faulty certificates).

    setup = TlsSetup.from_ready(runner.ready)      # the ready line's "ca", "insecure_host", an SA port
    launch("chromium", tls=setup)                  # the engine classes call the functions below

=========  ===========================================================  ==========================================
engine     trust                                                        D's name (insecure.test -> 127.0.0.1)
=========  ===========================================================  ==========================================
chromium   an NSS database $HOME/.pki/nssdb with the CA ("C,,"), HOME    --host-resolver-rules "MAP insecure.test
           inside the profile: real trust                               127.0.0.1" before "MAP * ~NOTFOUND"
firefox    the profile's own cert9.db with the CA: real trust           network.dns.localDomains (and no proxy)
webkit     WebKitWebDriver and its MiniBrowser in a private mount        an /etc/hosts bind-mounted in the same
           namespace, where the system bundle plus the CA is bind-      namespace
           mounted over /etc/ssl/certs/ca-certificates.crt (GnuTLS
           reads it): real trust. Without CAP_SYS_ADMIN: the driver's
           per-host certificate allowance for the good leaf (errors
           ignored for that certificate) and no D
=========  ===========================================================  ==========================================

`info` on each Browser says which way it used and what it proves ("real trust" or "errors ignored"). A
remote WebDriver endpoint gets none of this: the session lacks the capabilities `tls` and `host-d`.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CA_NICK = "harness run CA"


@dataclass(frozen=True)
class TlsSetup:
    ca: str                 # the run's CA certificate (PEM), ready line "ca"
    insecure_host: str      # origin D's name, ready line "insecure_host"
    good_port: int = 0      # a port presenting the good certificate (SA), for the pinning fallback

    @classmethod
    def from_ready(cls, ready: dict) -> "TlsSetup | None":
        if not ready.get("ca"):
            return None
        return cls(ca=ready["ca"], insecure_host=ready.get("insecure_host", "insecure.test"),
                   good_port=int(ready.get("ports", {}).get("SA", 0)))


def nss_db(directory: str, ca: str) -> None:
    """A new NSS database in `directory` trusting `ca` to identify servers (certutil, libnss3-tools)."""
    if not shutil.which("certutil"):
        raise RuntimeError("certutil is missing (libnss3-tools): scripts/install-deps.sh installs it")
    os.makedirs(directory, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", "sql:" + directory, "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-d", "sql:" + directory, "-n", CA_NICK, "-t", "C,,", "-i", ca], check=True,
                   capture_output=True)


def can_unshare_mounts() -> bool:
    """Whether this process may make a private mount namespace (CAP_SYS_ADMIN, as root on the reference
    machine). Checked once per launch with a no-op."""
    if not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    return r.returncode == 0


def namespace_wrap(setup: TlsSetup, workdir: str) -> list[str]:
    """argv prefix: run the command in a private mount namespace where the system CA bundle plus the run's CA is
    bind-mounted over SYSTEM_BUNDLE and an /etc/hosts naming D's host is bind-mounted over /etc/hosts. The
    files are written into `workdir` (the browser's profile, removed with it)."""
    bundle = os.path.join(workdir, "ca-bundle.pem")
    hosts = os.path.join(workdir, "hosts")
    with open(bundle, "w") as out, open(SYSTEM_BUNDLE) as system, open(setup.ca) as ca:
        out.write(system.read() + "\n" + ca.read())
    with open(hosts, "w") as out, open("/etc/hosts") as system:
        out.write(system.read() + f"\n127.0.0.1 {setup.insecure_host}\n")
    mounts = f'mount --bind "{bundle}" {SYSTEM_BUNDLE} && mount --bind "{hosts}" /etc/hosts'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", mounts + ' && exec "$0" "$@"']


def good_leaf(setup: TlsSetup, workdir: str) -> str:
    """The good certificate as the server presents it (fetched off the wire from SA), as a PEM file."""
    path = os.path.join(workdir, "good.pem")
    with open(path, "w") as f:
        f.write(ssl.get_server_certificate(("127.0.0.1", setup.good_port)))
    return path
