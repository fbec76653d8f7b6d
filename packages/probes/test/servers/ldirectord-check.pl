#!/usr/bin/perl
# Runs one of ldirectord's own check subs (read from Debian's /usr/sbin/ldirectord)
# against a real server, as a reference for our checks. Argument: JSON
# { "sub": "check_ftp", "extra": [..], "v": {virtual}, "r": {real} }. Prints up or down.
use strict;
use warnings;
use JSON::PP;
use Socket;
use Socket6;

our ($SERVICE_UP, $SERVICE_DOWN, $DEBUG, $HOSTNAME) = (0, 1, 0, 'probe.localdomain');
our $STATE = 'unset';
sub service_set { my ($v, $r, $state) = @_; $STATE = $state; }
sub ld_debug { }
sub ld_log { }
sub ld_checkport { my ($v, $r) = @_; return $$v{checkport} || $$r{port}; }

my $args = decode_json($ARGV[0]);
my $src = do { local $/; open my $f, '<', '/usr/sbin/ldirectord' or die "ldirectord: $!"; <$f> };
for my $name ($args->{sub}, qw(ld_open_socket ld_get_addrport ld_strip_brackets)) {
  $src =~ /^(sub \Q$name\E\s*\n\{.*?^\})/ms or die "no sub $name in ldirectord\n";
  no strict;
  no warnings;
  eval $1;
  die $@ if $@;
}
my $sub = \&{"main::$args->{sub}"};
my $rc = $sub->($args->{v}, $args->{r}, @{ $args->{extra} // [] });
print(($rc == $SERVICE_UP && $STATE eq 'up') ? "up\n" : "down\n");
