# shellcheck shell=bash disable=SC2034 # sourced by run-vm.sh, check-vm.sh and the guest
# basic-session: the basic machine again, booted fresh for the suites that
# change bindings and hold sessions (session, shell, probe, bind,
# libvirt-hook), so that neither boot of "basic" outlasts the guest timeout
# and check-vm's two parallel guests share the work evenly.  Groups: as basic.
. "${BASH_SOURCE[0]%/*}/basic.sh"
TOPO_DESC="basic, for the session, shell, probe, bind and libvirt-hook suites"
TOPO_SUITES="session shell probe bind libvirt-hook"
TOPO_HOST_SUITES=
