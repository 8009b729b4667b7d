"""IPython extension the code interpreter loads into every Python context.

It adds the MIME types E2B's clients understand on top of IPython's own:
`e2b/data` (a pandas DataFrame as columns of plain values), `e2b/chart` (a matplotlib figure
described as a chart) and `application/json` for plain lists and dicts. Nothing heavy is imported
here: pandas and matplotlib are only looked at once user code has imported them.
"""


def load_ipython_extension(ipython):
    from .formatters import install

    install(ipython)
