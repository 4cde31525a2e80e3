"""Which network addresses hirebot may connect to when a person gave it the address.

A pasted address (an interviewer's calendar feed, a recruiter's webhook endpoint) may point
anywhere hirebot's server can reach: the cloud's metadata service (169.254.169.254), a
database on the private network, the bot's own port on 127.0.0.1. ``AddressPolicy`` says
which IP addresses are fair game; ``CheckedResolver`` resolves a host name and keeps only
those, so aiohttp connects to an address that was checked and to nothing else (a DNS answer
that changes between a check and the connect cannot slip through: there is no second
lookup). One setting, HIREBOT_CALENDAR_PRIVATE_HOSTS, opens loopback and private networks
for both (the sandbox, tests, servers on the company network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(OSError):
    """A host that resolves only to addresses hirebot may not connect to."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which IP addresses hirebot may connect to for a pasted address. Only public ones, unless
    ``allow_private`` (HIREBOT_CALENDAR_PRIVATE_HOSTS=allow: tests, the sandbox, a
    server on the company network) also lets loopback and private networks through. Link-local
    addresses, where clouds answer with their instance credentials, are refused either way."""

    allow_private: bool = False

    def allows(self, address: str | IPAddress) -> bool:
        try:
            ip = ipaddress.ip_address(
                address.split("%", 1)[0] if isinstance(address, str) else address
            )
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
            return False
        if ip.is_reserved and not ip.is_loopback:  # ::1 sits in IPv6's reserved ::/8
            return False
        if ip.is_global:
            return True
        return self.allow_private and (ip.is_private or ip.is_loopback)


class CheckedResolver(AbstractResolver):
    """The system's resolver, keeping only the addresses ``policy`` allows; none left is a
    RefusedAddress. aiohttp connects to what this returns, and only to that."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [entry for entry in found if self._policy.allows(entry["host"])]
        if not allowed:
            raise RefusedAddress("every address of this host is refused")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


async def only_refused(host: str, policy: AddressPolicy, *, seconds: float = 1.0) -> bool:
    """Whether ``host`` resolves, now, only to addresses ``policy`` refuses: a quick answer
    for a person who pasted an address. It proves nothing for later (DNS changes), so every
    connection is checked again by ``CheckedResolver``; a name that does not resolve within
    ``seconds`` is not refused here."""
    resolver = DefaultResolver()
    try:
        async with asyncio.timeout(seconds):
            found = await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except (OSError, TimeoutError):
        return False
    finally:
        await resolver.close()
    return bool(found) and not any(policy.allows(entry["host"]) for entry in found)
