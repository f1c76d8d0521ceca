"""``{% personal "name" key… %}``: a hole for a person's own part of a shared page
(portal/personal.py fills it for each request). Several keys are joined with ":"."""

from django import template

from portal import personal as parts

register = template.Library()


@register.simple_tag
def personal(name: str, *keys: object):
    return parts.hole(name, ":".join(map(str, keys)))
