"""Steps the person-centred page tests share: a browser person who is also an API person, and
a plain-HTTP session of the web app (a browser without JavaScript, for checking answers)."""

from __future__ import annotations

import re
import secrets

import httpx
from playwright.async_api import Page

from tests.support.api import Person
from tests.support.web_pages import sign_in
from weft_web.auth.dev_people import dev_subject

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser_person(label: str) -> Person:
    """Someone who signs in on the dev sign-in page; the same person through the API."""
    email = f"{label.lower().replace(' ', '.')}.{secrets.token_hex(4)}@example.org"
    return Person(user_id=dev_subject(email), email=email, name=label)


async def sign_in_as(page: Page, person: Person, *, next_path: str = "/") -> None:
    await sign_in(page, person.name, person.email, next_path=next_path)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def http_sign_in(http: httpx.AsyncClient, person: Person) -> None:
    """Sign in a plain HTTP client of the web app through the dev sign-in form."""
    page = await http.get("/sign-in")
    answer = await http.post(
        "/sign-in/dev", data={"name": person.name, "email": person.email, "csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303, answer.text
