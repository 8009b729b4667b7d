"""PIL images as results, as on E2B: `Image.show()` and `Image.save(path)` display the image.

There is no screen in a sandbox: show() goes to PIL's IPython viewer (a display_data with a PNG)
instead of an external program, and save() to a file path also displays what it saves. PIL is
patched when user code first imports PIL.Image, so a context that never uses it never loads it.
"""
import importlib.abc
import importlib.util
import os
import sys

_MODULE = "PIL.Image"


def install():
    if _MODULE in sys.modules:
        _patch(sys.modules[_MODULE])
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def _patch(image_module):
    if getattr(image_module, "_e2b_patched", False):
        return
    image_module._e2b_patched = True
    from IPython.display import display
    from PIL import ImageShow

    def decline(self, image, **options):
        return 0  # no screen for xdg-open, display or eog here: the next viewer (IPython's) shows it

    ImageShow.UnixViewer.show = decline
    original_save = image_module.Image.save

    def save(self, fp, format=None, **params):
        if isinstance(fp, (str, os.PathLike)):
            display(self)
        return original_save(self, fp, format, **params)

    save.__doc__ = original_save.__doc__
    image_module.Image.save = save


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds PIL.Image with the other finders and patches the module once it has run."""

    def __init__(self):
        self._finding = False

    def find_spec(self, fullname, path, target=None):
        if fullname != _MODULE or self._finding:
            return None
        self._finding = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._finding = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module):
            run(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _patch(module)

        loader.exec_module = exec_module
        return spec
