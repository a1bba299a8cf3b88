# AttackNode — the setup the t/09x_attack_*.pl files share: a storemon node,
# login roles, a database holding the sample feeds, and the README's grants
# for a reporting role.
package AttackNode;

use strict;
use warnings;
use StoremonNode;

use Exporter 'import';
our @EXPORT = qw(attack_node grant_reporting);

# A started node and database $db; %opt: roles => [...] (login roles, made
# first), owner => the database's owner, conf => {postgresql.conf lines},
# bare => 1 for a database without the extension and feeds.
sub attack_node
{
	my ($name, $db, %opt) = @_;
	my $node = storemon_node($name, %{ $opt{conf} // {} });
	my $roles = join('', map { "CREATE ROLE $_ LOGIN;" } @{ $opt{roles} // [] });
	$node->safe_psql('postgres', $roles) if $roles ne '';
	$node->safe_psql('postgres', "CREATE DATABASE $db" . ($opt{owner} ? " OWNER $opt{owner}" : ''));
	load_sample($node, $db) unless $opt{bare};
	return $node;
}

# README "Privileges": a role that triggers reports and reads them.
sub grant_reporting
{
	my ($node, $db, @roles) = @_;
	my $to = join(', ', @roles);
	$node->safe_psql($db, qq{
		GRANT SELECT ON storemon.store_status, storemon.menu_hours, storemon.timezones TO $to;
		GRANT INSERT (requested_as_of, interpolation), SELECT (id) ON storemon.reports TO $to;
		GRANT USAGE ON SEQUENCE storemon.reports_seq TO $to;
		GRANT SELECT ON storemon.reports, storemon.report_rows TO $to;
	});
	return;
}

1;
