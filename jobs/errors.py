"""Errors a user causes and can fix (bad input spec, bad recipe, bad Spark setting).

The CLI prints them as one line naming the thing and what to do, without a traceback.
"""


class UserError(ValueError):
    pass
