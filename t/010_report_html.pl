# The report page of make demo (scripts/report_html.sql), rendered by a
# real headless browser (Debian's chromium): the screenshot must show the
# page, with the red and green of the store pictures, not a blank page.
use strict;
use warnings;
use lib 't';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Compress::Zlib qw(uncompress);
use StoremonNode;

my $chromium = (grep { -x } qw(/usr/bin/chromium /usr/bin/chromium-browser))[0];
ok($chromium, 'a headless browser is installed (scripts/install-deps installs chromium)')
  or BAIL_OUT('no chromium');

my $node = storemon_node('html', preload => 'storemon');
load_sample($node, 'shop');
my $id = $node->safe_psql('shop', 'SELECT storemon_trigger_report()');
is(wait_status($node, 'shop', $id, 'Complete', 'Failed'), 'Complete', 'a report completes');

my $dir = $PostgreSQL::Test::Utils::tmp_check;
my $html = "$dir/report.html";
command_ok(['psql', '-XAt', '-d', $node->connstr('shop'), '-v', "report=$id", '-f', 'scripts/report_html.sql',
		'-o', $html], 'scripts/report_html.sql writes the page');
my $page = slurp_file($html);
like($page, qr/^<!DOCTYPE html>/, 'it is an HTML document');
unlike($page, qr/(?:src|href)\s*=\s*"(?:https?:)?\/\//i, 'and loads nothing from the network');
is(scalar(() = $page =~ /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="860"/g), 10,
	'with the pictures of the ten worst stores');

my $png = "$dir/report.png";
my ($out, $err);
IPC::Run::run([$chromium, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
		'--no-first-run', "--user-data-dir=$dir/chromium", '--window-size=1000,1400',
		"--screenshot=$png", "file://$html"], '>', \$out, '2>', \$err, IPC::Run::timeout(120));
ok(-s $png, 'chromium rendered a screenshot') or diag($err);

my ($w, $h, $pixels) = read_png($png);
my (%colours, $red, $green, $white);
for my $i (0 .. $w * $h - 1)
{
	my ($r, $g, $b) = unpack('C3', substr($pixels, 3 * $i, 3));
	$colours{"$r,$g,$b"} = 1;
	$white++ if $r > 245 && $g > 245 && $b > 245;
	$red++   if abs($r - 0xd6) < 10 && abs($g - 0x45) < 10 && abs($b - 0x45) < 10;
	$green++ if abs($r - 0x2e) < 10 && abs($g - 0x9d) < 10 && abs($b - 0x4f) < 10;
}
note("$w x $h, " . scalar(keys %colours) . " colours, red $red, green $green, white $white");
cmp_ok(scalar(keys %colours), '>', 20, 'the screenshot is not blank: many colours');
cmp_ok($white, '<', 0.9 * $w * $h, 'and not mostly white');
cmp_ok($red,   '>', 2000, 'down time is drawn in red');
cmp_ok($green, '>', 2000, 'up time is drawn in green');
$node->stop;
done_testing();

# (width, height, RGB bytes) of an 8-bit RGB or RGBA PNG, as chromium writes them.
sub read_png
{
	my ($file) = @_;
	my $data = slurp_file($file);
	die "not a PNG" unless substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $w, $h, $depth, $type) = (8, '');
	while ($pos < length $data)
	{
		my ($len, $tag) = unpack('N a4', substr($data, $pos, 8));
		my $body = substr($data, $pos + 8, $len);
		($w, $h, $depth, $type) = unpack('N N C C', $body) if $tag eq 'IHDR';
		$idat .= $body if $tag eq 'IDAT';
		$pos += 12 + $len;
	}
	die "unsupported PNG: depth $depth type $type" unless $depth == 8 && ($type == 2 || $type == 6);
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = uncompress($idat) // die "bad zlib data";
	my ($rgb, @prev) = ('', (0) x ($w * $bpp));
	for my $y (0 .. $h - 1)
	{
		my $off = $y * ($w * $bpp + 1);
		my $filter = ord(substr($raw, $off, 1));
		my @cur = unpack('C*', substr($raw, $off + 1, $w * $bpp));
		for my $i (0 .. $#cur)
		{
			my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
			my $p = $filter == 1 ? $a
			  : $filter == 2 ? $b
			  : $filter == 3 ? int(($a + $b) / 2)
			  : $filter == 4 ? paeth($a, $b, $c)
			  :                0;
			$cur[$i] = ($cur[$i] + $p) & 0xff;
		}
		$rgb .= pack('C*', map { @cur[$_ * $bpp .. $_ * $bpp + 2] } 0 .. $w - 1);
		@prev = @cur;
	}
	return ($w, $h, $rgb);
}

sub paeth
{
	my ($a, $b, $c) = @_;
	my $p = $a + $b - $c;
	my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
	return $pa <= $pb && $pa <= $pc ? $a : $pb <= $pc ? $b : $c;
}
