"""IPython extension the code interpreter loads into every Python context.

It adds the MIME types E2B's clients understand on top of IPython's own:
`e2b/data` (a pandas DataFrame as columns of plain values), `e2b/chart` (a matplotlib figure
described as a chart) and `application/json` for plain lists and dicts, and makes PIL's
`Image.show()` / `Image.save(path)` display the image. Nothing heavy is imported here: pandas,
matplotlib and PIL are only looked at once user code has imported them.
"""


def load_ipython_extension(ipython):
    from . import formatters, images

    formatters.install(ipython)
    images.install()
