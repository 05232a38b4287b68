"""What the proxmoxer package (2.x) sees of a corral pveproxy: run by nodes/tests/proxmoxer.rs.

Three sessions against https://127.0.0.1:$CORRAL_PORT, each as a proxmoxer user writes it:
  - "password": user and password (POST /access/ticket, then the ticket cookie),
  - "token": an API token (the PVEAPIToken Authorization header),
  - "wrong_password": a login that must fail.
Prints one JSON object: for each session either what it read or the exception it raised.
The credentials come from the environment (CORRAL_USER, CORRAL_PASSWORD, CORRAL_TOKEN_NAME,
CORRAL_TOKEN_VALUE), never from the command line.
"""

import json
import os
import sys

import proxmoxer
from proxmoxer import ProxmoxAPI


def connect(**credentials):
    return ProxmoxAPI(
        "127.0.0.1",
        port=int(os.environ["CORRAL_PORT"]),
        user=os.environ["CORRAL_USER"],
        verify_ssl=False,
        **credentials,
    )


def read(**credentials):
    """Logs in and reads /version and /access/permissions, or tells which exception it got."""
    try:
        api = connect(**credentials)
        return {
            "version": api.version.get(),
            "permissions": api.access.permissions.get(),
        }
    except Exception as error:  # the test asserts on the type and message
        return {"error": type(error).__name__, "message": str(error)}


def main():
    result = {
        "proxmoxer": proxmoxer.__version__,
        "password": read(password=os.environ["CORRAL_PASSWORD"]),
        "token": read(
            token_name=os.environ["CORRAL_TOKEN_NAME"],
            token_value=os.environ["CORRAL_TOKEN_VALUE"],
        ),
        "wrong_password": read(password=os.environ["CORRAL_PASSWORD"] + "-wrong"),
    }
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
