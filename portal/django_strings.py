"""Strings Django 6.1 shows whose Chinese its own catalogs do not have yet (they were added after
Django's zh_Hans translation was last updated). Marked here, makemessages puts them in our
catalog, which Django reads before its own, so staff never meet an English word in the admin.
Nothing imports this module; drop a line once Django's catalog has it."""

from django.utils.translation import gettext_noop, ngettext_lazy

gettext_noop("- Select an option -")  # the empty choice of every select, the admin's actions too
gettext_noop("No %s matches the given query.")
gettext_noop("“%(value)s” is not a valid binary value.")
gettext_noop("Filter by %(field_name)s")
gettext_noop("Logout")
gettext_noop('The app "%s" could not be found.')
ngettext_lazy("…and %(count)d more object.", "…and %(count)d more objects.", "count")
