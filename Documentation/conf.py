# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration of bootpool's documentation; `make htmldocs` from the
# top of the tree runs sphinx-build with it.
#
# The kernel-doc directive comes from the kernel's own Sphinx extension
# (Documentation/sphinx/kerneldoc.py of Debian's linux-source-6.1), which
# `scripts/setup --docs` extracts into the cache together with
# scripts/kernel-doc. BOOTPOOL_KDOC names that directory.

import os
import sys

kdoc = os.environ.get('BOOTPOOL_KDOC')
if not kdoc or not os.path.isfile(os.path.join(kdoc, 'scripts', 'kernel-doc')):
    sys.exit('conf.py: BOOTPOOL_KDOC must name the directory that '
             '`scripts/setup --docs` fills (use `make htmldocs`)')
sys.path.insert(0, os.path.join(kdoc, 'Documentation', 'sphinx'))

project = 'bootpool'
copyright = 'The bootpool authors'
author = 'The bootpool authors'

extensions = ['kerneldoc']
kerneldoc_bin = os.path.join(kdoc, 'scripts', 'kernel-doc')
kerneldoc_srctree = os.path.abspath(os.path.join(os.path.dirname(__file__),
                                                 '..'))
# kernel-doc's own warnings are checked by `kernel-doc -none -Werror`
# before Sphinx runs; keep its stderr quiet here.
kerneldoc_verbosity = 0

master_doc = 'index'
exclude_patterns = ['output']
primary_domain = 'c'
highlight_language = 'none'
html_theme = 'alabaster'
html_title = 'bootpool documentation'
html_show_sourcelink = False
