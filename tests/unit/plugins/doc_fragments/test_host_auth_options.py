"""The host_ auth options are documented once (doc_fragments/host_auth_options.py) and built in code
(_k8s.auth_argspec("host_")): names, types, aliases, elements and suboptions must agree."""

import yaml

from ansible_collections.kubesphere.multicluster.plugins.doc_fragments.host_auth_options import ModuleDocFragment
from ansible_collections.kubesphere.multicluster.plugins.module_utils._k8s import auth_argspec


def shape(options, sub_key):
    out = {}
    for name, opt in options.items():
        out[name] = {"type": opt.get("type", "str"), "aliases": sorted(opt.get("aliases") or []),
                     "elements": opt.get("elements")}
        if opt.get(sub_key):
            out[name]["sub"] = shape(opt[sub_key], sub_key)
    return out


def test_fragment_matches_argspec():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert shape(documented, "suboptions") == shape(auth_argspec("host_"), "options")


def test_every_documented_option_has_a_description():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert all(opt.get("description") for opt in documented.values())
