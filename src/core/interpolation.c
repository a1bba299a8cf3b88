/*
 * interpolation.c — status segments from polls (see interpolation.h).
 *
 * Plain C, no server calls.
 */
#include "interpolation.h"

int
sm_polls_dedupe(SmPoll *polls, int n)
{
	int out = 0;

	for (int i = 0; i < n; i++)
	{
		if (out > 0 && polls[out - 1].at == polls[i].at)
			polls[out - 1].active = polls[out - 1].active && polls[i].active;
		else
			polls[out++] = polls[i];
	}
	return out;
}

/*
 * First instant owned by the later of two polls a < b.  Nearest: the
 * instants from ceil((a + b) / 2) on are at least as near to b (a tie goes
 * to the later poll); written as a + ceil((b - a) / 2) so it cannot
 * overflow.  Previous: b owns everything from b on.
 */
static int64_t
handover(int64_t a, int64_t b, SmMode mode)
{
	if (mode == SM_PREVIOUS)
		return b;
	return a + (b - a + 1) / 2;
}

int
sm_status_segments(const SmPoll *polls, int n, SmMode mode, SmSegment *out)
{
	int count = 0;
	int64_t lo = SM_TIME_MIN;

	for (int i = 0; i < n; i++)
	{
		int64_t hi = (i + 1 < n) ? handover(polls[i].at, polls[i + 1].at, mode) : SM_TIME_MAX;

		if (count > 0 && out[count - 1].active == polls[i].active)
			out[count - 1].hi = hi;
		else
			out[count++] = (SmSegment){lo, hi, polls[i].active};
		lo = hi;
	}
	return count;
}
