"""Only the compiled part of the package; everything else is declared in pyproject.toml."""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        # lxml.get_include(): lxml's public C API and the libxml2 headers it was built with (the struct layouts).
        [Extension("producers.record_tree", ["producers/record_tree.pyx"], include_dirs=lxml.get_include())],
        compiler_directives={"language_level": "3"},
    )
)
