# -*- coding: utf-8 -*-
# Copyright: kubesphere.multicluster contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE to kubesphere.multicluster: the host cluster's connection, for modules that talk to a member
and its host. These are kubernetes.core's auth options (k8s_auth_options) with a `host_` prefix, built by
`_k8s.auth_argspec("host_")`; tests/unit/plugins/doc_fragments/test_host_auth_options.py keeps the two in
sync."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  host_host:
    description:
      - URL of the host cluster's API server (kubernetes.core's O(host), for the host cluster).
    type: str
  host_api_key:
    description:
      - Token for the host cluster's API server.
    type: str
  host_kubeconfig:
    description:
      - Kubeconfig of the host cluster (kubernetes.core's O(kubeconfig)), as a path, a dictionary, or
        kubeconfig YAML or JSON text (as AWX injects it). Never logged or returned.
      - Unset host options are never taken from C(K8S_AUTH_*) environment variables.
    type: raw
  host_context:
    description:
      - Context of O(host_kubeconfig) to use.
    type: str
  host_username:
    description:
      - Username for HTTP basic auth to the host cluster.
    type: str
  host_password:
    description:
      - Password for HTTP basic auth to the host cluster.
    type: str
  host_client_cert:
    description:
      - Client certificate file for the host cluster.
    type: path
    aliases: [ host_cert_file ]
  host_client_key:
    description:
      - Client key file for the host cluster.
    type: path
    aliases: [ host_key_file ]
  host_ca_cert:
    description:
      - CA certificate file that signs the host cluster's API server certificate.
    type: path
    aliases: [ host_ssl_ca_cert ]
  host_validate_certs:
    description:
      - Whether to verify the host cluster's API server certificate.
    type: bool
    aliases: [ host_verify_ssl ]
  host_proxy:
    description:
      - HTTP proxy URL for the host cluster.
    type: str
  host_no_proxy:
    description:
      - Comma-separated hosts that bypass O(host_proxy).
    type: str
  host_proxy_headers:
    description:
      - Headers for the HTTP proxy of the host cluster (kubernetes.core's O(proxy_headers)).
    type: dict
    suboptions:
      proxy_basic_auth:
        description: Colon-separated username:password for proxy basic authentication.
        type: str
      basic_auth:
        description: Colon-separated username:password for basic authentication.
        type: str
      user_agent:
        description: User agent string.
        type: str
  host_persist_config:
    description:
      - Whether to save refreshed tokens back to O(host_kubeconfig).
    type: bool
  host_impersonate_user:
    description:
      - Username to impersonate on the host cluster.
    type: str
  host_impersonate_groups:
    description:
      - Groups to impersonate on the host cluster.
    type: list
    elements: str
"""
