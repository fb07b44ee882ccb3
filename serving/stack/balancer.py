"""nginx in front of the API processes: one URL, streams passed through unbuffered.

Any API process can serve any request (threads, runs and streams live in Postgres and
Redis), so the balancer only spreads connections (`least_conn`: streams are long) and,
when a process is gone, sends new connections to the others.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from serving.process import ServerError, kill_pid_file, port_is_free
from serving.stack.backends import PACKAGES, apt_install
from serving.stack.layout import StackLayout


def nginx() -> str:
    """Return the nginx command, installing Debian's `nginx-light` if missing."""
    found = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
    if not found:
        apt_install(PACKAGES["nginx"])
        found = shutil.which("nginx") or "/usr/sbin/nginx"
    return str(found)


def config(layout: StackLayout) -> str:
    """Return the nginx config that balances the layout's API processes."""
    folder = layout.run_dir / "nginx"
    upstreams = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in layout.api_ports
    )
    return f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 2m;
    client_body_buffer_size 2m;
    upstream aegra {{
        least_conn;
{upstreams}
    }}
    server {{
        listen 127.0.0.1:{layout.port};
        location / {{
            proxy_pass http://aegra;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_cache off;
            proxy_connect_timeout 2s;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


class Balancer:
    """nginx on the layout's port, run in the foreground of its own session."""

    def __init__(self, layout: StackLayout) -> None:
        """Use the layout's ports and folder (nothing is started)."""
        self.layout = layout
        self.pid_file = layout.run_dir / "balancer.pid"

    def start(self, timeout: float = 20.0) -> None:
        """Write the config and start nginx; wait until it forwards `/ready`."""
        if not port_is_free(self.layout.port):
            raise ServerError(f"port {self.layout.port} is taken (the balancer)")
        folder = self.layout.run_dir / "nginx"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "nginx.conf"
        path.write_text(config(self.layout))
        command = [nginx(), "-p", str(folder), "-c", str(path), "-e", str(folder / "error.log")]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.layout.url}/ready", timeout=2):
                    return
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise ServerError(f"nginx did not start: see {folder}/error.log") from None
                time.sleep(0.2)

    def stop(self) -> bool:
        """Stop nginx; return True if it was running."""
        return kill_pid_file(self.pid_file)
