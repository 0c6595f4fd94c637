"""wsactions for Django's own template language: ``{% load wsactions %}``.

Needs the context processor ``wsactions.contrib.django.context_processors.wsactions``
(or just the middleware: the tags fall back to the request)::

    {% load wsactions %}
    {% wsaction "Login" as login %}
    {% if login.error %}<p role="alert">{{ login.message }}</p>{% endif %}
    <form method="post">
      {% wsform login "/account/" %}            {# wsact, wscsrf, Django's token, wstarget #}
      <input name="id" value="{{ login|wsparam:'id' }}">
      <p>{{ login|wsmessage:"id" }}</p>          {# the errors of the field id #}
      <input type="password" name="password">
      <button>Log in</button>
    </form>
    {% wsresult as result %}{{ result.notice|default:"" }}   {# the action this request ran #}
    {{ wsAccount.email }}                       {# the customer (the context processor) #}
    <a href="{% wsurl 'Logout' '/' %}">Log out</a>
    {% wssession "basket" %}
    {% wstarget request.GET.next "/account/" as back %}<a href="{{ back }}">Back</a>

A handle (``{% wsaction %}``) has ``id``, ``csrf``, ``name``, ``success``,
``error``, ``codes``, ``messages`` (each ``.text``, ``.field``, ``.code``),
``message`` (the errors of no field), ``notice``, ``params`` and ``data``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from wsactions.contrib.django.middleware import template_view
from wsactions.view import CurrentView, HandleView, TemplateView

register = template.Library()


def _view(context: template.Context) -> TemplateView:
    request: HttpRequest | None = context.get("request")
    if request is None:
        raise template.TemplateSyntaxError(
            "wsactions' template tags need the request in the context "
            "(render with a request, and the 'request' context processor)"
        )
    return template_view(request)


@register.simple_tag(takes_context=True)
def wsaction(context: template.Context, name: str) -> HandleView:
    """``{% wsaction "Login" as login %}``: the handle of action *name*."""
    return _view(context).wsActions.create(name)


@register.simple_tag(takes_context=True)
def wsresult(context: template.Context) -> CurrentView:
    """``{% wsresult as result %}``: the result of the action this request ran (empty name
    if none) — ``wsActions.current``. Not the customer: that is ``wsAccount`` (the context
    processor) or ``request.customer``."""
    return _view(context).wsActions.current


@register.simple_tag(takes_context=True)
def wscurrent(context: template.Context) -> CurrentView:
    """``{% wscurrent as current %}``: the same as ``{% wsresult %}`` (the seed's name,
    ``wsActions.current``: the action this request ran, not the current customer)."""
    return _view(context).wsActions.current


@register.simple_tag(takes_context=True)
def wsform(context: template.Context, handle: HandleView, target: str = "") -> SafeString:
    """The hidden fields of a wsactions form: ``wsact``, ``wscsrf``, Django's CSRF token,
    the page's ``wsoptin`` and, when given, ``wstarget``."""
    request: HttpRequest | None = context.get("request")
    fields = [("wsact", handle.id), ("wscsrf", handle.csrf)]
    if request is not None:
        fields.append(("csrfmiddlewaretoken", get_token(request)))
        optin = request.GET.get("wsoptin")
        if optin:
            fields.append(("wsoptin", optin))
    if target:
        fields.append(("wstarget", target))
    return format_html_join(
        "\n", '<input type="hidden" name="{}" value="{}">', ((k, v) for k, v in fields)
    )


@register.simple_tag(takes_context=True)
def wsurl(context: template.Context, name: str, target: str, **params: Any) -> str:
    """``{% wsurl "Logout" "/" %}``: a signed link running link action *name*, then showing
    *target* (keyword arguments become the action's parameters)."""
    values = {key: str(value) for key, value in params.items()}
    return _view(context).wsActions.url(name, target, values or None)


@register.simple_tag(takes_context=True)
def wstarget(context: template.Context, value: str | None, default: str) -> str:
    """``{% wstarget request.GET.next "/account/" as back %}``: *value* if the engine would
    redirect there, else *default* (same as ``wsActions.target``): the only way a page
    may link to or post a ``next`` it was given."""
    return _view(context).wsActions.target(value, default)


@register.simple_tag(takes_context=True)
def wssession(context: template.Context, key: str) -> str:
    """``{% wssession "key" %}``: a session variable ("" when unset)."""
    return _view(context).wsSession.get(key) or ""


@register.filter
def wsmessage(handle: CurrentView, field: str) -> str:
    """``{{ handle|wsmessage:"email" }}``: the messages of the errors of *field*."""
    return handle.message(field) if isinstance(handle, CurrentView) else ""


@register.filter
def wsparam(handle: HandleView, name: str) -> str:
    """``{{ handle|wsparam:"address.zip" }}``: an echoed parameter ("" when absent); for names
    with dots, which ``{{ handle.params.name }}`` cannot reach."""
    return handle.params.get(name, "") if isinstance(handle, HandleView) else ""


@register.simple_tag
def wserrors(handle: CurrentView, *shown: str) -> SafeString:
    """The errors of no field and of fields the form does not show (*shown*), as an alert."""
    items = [m.text for m in handle.messages if m.field not in shown]
    if not items:
        return SafeString("")
    inner = format_html_join("", "<li>{}</li>", ((text,) for text in items))
    return format_html('<div class="alert alert-error" role="alert"><ul>{}</ul></div>', inner)
