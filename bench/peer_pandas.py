#!/usr/bin/python3
"""bench/peer_pandas.py — the report of SPEC.md from the three CSV files, in pandas.

    bench/peer_pandas.py DIR [AS_OF_MICROSECONDS_SINCE_1970 [nearest|previous]] > report.csv

The strongest pandas formulation we could write, for `make bench` to
measure storemon's whole path (CSV files -> loader -> first report) against:
no per-store Python loop, every step a vectorized pass.

- Polls: parsed, cut at as_of, and per store only those from the last poll
  at or before the week window on (older ones cannot be nearest to any
  instant of it); polls at one instant merged, inactive winning.
- Status: consecutive polls a < b hand over at a + ceil((b - a) / 2)
  (nearest) or b (previous); the active time up to any instant t is a
  prefix sum over the store's segments, found with one searchsorted on
  (store, time) keys.
- Business hours: each menu_hours row is one or two pieces of the local
  week; each store's zone is split into stretches of one UTC offset over
  the window (zoneinfo, the same system tzdata PostgreSQL uses on Debian);
  pieces are laid on each stretch's local clock, clipped, turned to UTC and
  merged per store.  That is SPEC.md's per-instant rule.
- Each window's uptime is active time over the business intervals inside
  it; downtime is the rest of the business time.  Integers throughout,
  rounded half away from zero to hundredths at the end.

Zone names count when Python's zoneinfo lists them (any letter case);
that equals pg_timezone_names for every IANA name in the feeds.
"""
import os
import sys
import zoneinfo
from datetime import datetime, timezone

import numpy as np
import pandas as pd

US_MIN = 60_000_000
US_HOUR = 60 * US_MIN
US_DAY = 24 * US_HOUR
US_WEEK = 7 * US_DAY
MONDAY_1970 = 4 * US_DAY  # 1970-01-05 was a Monday
WINDOWS = {"hour": US_HOUR, "day": US_DAY, "week": US_WEEK}


def column(df, names):
    for c in df.columns:
        if c.strip().lower() in names:
            return df[c]
    raise SystemExit(f"peer_pandas: no column {' or '.join(names)}")


def read_polls(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    ts = column(df, {"timestamp_utc"}).str.strip().str.replace(" UTC", "", regex=False)
    at = pd.to_datetime(ts, utc=True, infer_datetime_format=True).astype("int64") // 1000
    active = column(df, {"status"}).str.strip().str.lower().eq("active")
    return pd.DataFrame({"store_id": column(df, {"store_id"}).str.strip(), "at": at, "active": active})


def time_us(s):
    """'HH:MM:SS[.ffffff]' -> microseconds after midnight (24:00:00 allowed)."""
    parts = s.str.strip().str.split(":", expand=True)
    secs = parts[2].astype(float) if 2 in parts else 0.0
    return (parts[0].astype("int64") * US_HOUR + parts[1].astype("int64") * US_MIN
            + np.round(secs * 1_000_000).astype("int64"))


def read_hours(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame({
        "store_id": column(df, {"store_id"}).str.strip(),
        "day": column(df, {"day", "dayofweek", "day_of_week"}).astype("int64"),
        "s": time_us(column(df, {"start_time_local"})),
        "e": time_us(column(df, {"end_time_local"})),
    })


def read_zones(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    zones = pd.DataFrame({"store_id": column(df, {"store_id"}).str.strip(),
                          "zone": column(df, {"timezone_str"}).str.strip()})
    return zones.drop_duplicates("store_id", keep="last")  # the last row in the file wins


def week_pieces(hours):
    """menu_hours rows as pieces [lo, hi) of the local week line."""
    d0 = hours["day"] * US_DAY
    same = hours["s"] == hours["e"]
    over = hours["s"] > hours["e"]
    first = pd.DataFrame({"store_id": hours["store_id"],
                          "lo": np.where(same, d0, d0 + hours["s"]),
                          "hi": np.where(same | over, d0 + US_DAY, d0 + hours["e"])})
    nxt = ((hours["day"][over] + 1) % 7) * US_DAY
    second = pd.DataFrame({"store_id": hours["store_id"][over], "lo": nxt, "hi": nxt + hours["e"][over]})
    return pd.concat([first, second], ignore_index=True)


def offset_spans(zone_name, lo, hi):
    """[(lo, hi, offset_us)] covering [lo, hi) of UTC microseconds, one offset each."""
    tz = zoneinfo.ZoneInfo(zone_name)

    def off(t):
        return int(datetime.fromtimestamp(t // 1_000_000, timezone.utc).astimezone(tz)
                   .utcoffset().total_seconds()) * 1_000_000

    spans, cur, cur_off = [], lo, off(lo)
    t = lo
    while t < hi:
        step = min(t + US_HOUR, hi)
        if off(step - 1) != cur_off:  # a change inside (t, step): find its second
            a, b = t // 1_000_000, (step - 1) // 1_000_000
            while b - a > 1:
                m = (a + b) // 2
                if off(m * 1_000_000) == cur_off:
                    a = m
                else:
                    b = m
            spans.append((cur, b * 1_000_000, cur_off))
            cur, cur_off = b * 1_000_000, off(b * 1_000_000)
        t = step
    spans.append((cur, hi, cur_off))
    return spans


def business(stores, hours, zones, as_of):
    """Merged UTC business intervals [lo, hi) per store over the week window."""
    wlo, whi = as_of - US_WEEK + 1, as_of + 1
    names = {z.lower(): z for z in zoneinfo.available_timezones()}
    zone = stores.merge(zones, on="store_id", how="left")["zone"].fillna("").str.lower().map(names)
    zone = zone.fillna("America/Chicago")
    spans = pd.DataFrame([(z, a, b, o) for z in zone.unique() for a, b, o in offset_spans(z, wlo, whi)],
                         columns=["zone", "slo", "shi", "off"])
    st = pd.DataFrame({"store_id": stores["store_id"], "zone": zone.values})
    pieces = week_pieces(hours[hours["store_id"].isin(st["store_id"])])
    # stores without hours are open at every instant: one piece, the whole week
    open_all = st.loc[~st["store_id"].isin(pieces["store_id"]), ["store_id"]].assign(lo=0, hi=US_WEEK, always=True)
    x = pd.concat([pieces.assign(always=False), open_all], ignore_index=True)
    x = x.merge(st, on="store_id").merge(spans, on="zone")
    llo, lhi = x["slo"] + x["off"], x["shi"] + x["off"]
    w0 = (llo - MONDAY_1970) // US_WEEK * US_WEEK + MONDAY_1970
    out = []
    for k in range(3):  # a span of at most a week meets at most three local weeks
        base = np.where(x["always"], llo, w0 + k * US_WEEK)
        lo = np.maximum(np.where(x["always"], llo, base + x["lo"]), llo)
        hi = np.minimum(np.where(x["always"], lhi, base + x["hi"]), lhi)
        keep = (lo < hi) & (~x["always"] | (k == 0))
        out.append(pd.DataFrame({"store_id": x["store_id"][keep], "lo": (lo - x["off"])[keep],
                                 "hi": (hi - x["off"])[keep]}))
    iv = pd.concat(out, ignore_index=True).sort_values(["store_id", "lo"], kind="stable")
    # union per store: each interval starts after everything before it ended
    prev = iv.groupby("store_id")["hi"].cummax().groupby(iv["store_id"]).shift(1)
    iv["lo"] = np.maximum(iv["lo"], prev.fillna(np.iinfo("int64").min).astype("int64"))
    return iv[iv["lo"] < iv["hi"]]


def segments(polls, as_of, mode):
    """Status segments per store, clamped to the week window, with active time before each."""
    wlo, whi = as_of - US_WEEK + 1, as_of + 1
    p = polls.groupby(["store_id", "at"], sort=True)["active"].all().reset_index()
    nxt = p.groupby("store_id")["at"].shift(-1)
    if mode == "nearest":
        hand = p["at"] + (nxt - p["at"] + 1) // 2
    else:
        hand = nxt
    p["end"] = hand.fillna(whi).astype("int64").clip(wlo, whi)
    p["start"] = p.groupby("store_id")["end"].shift(1).fillna(wlo).astype("int64")
    dur = pd.Series(np.where(p["active"], p["end"] - p["start"], 0), index=p.index)
    p["before"] = dur.groupby(p["store_id"]).cumsum() - dur  # active time of the store's earlier segments
    return p


def active_until(seg, codes, t, wlo):
    """Active time of each store from the window start to t (vectorized)."""
    key = seg["code"].values * (2 * US_WEEK + 4) + (seg["start"].values - wlo)
    q = codes * (2 * US_WEEK + 4) + (t - wlo)
    k = np.searchsorted(key, q, side="right") - 1
    part = np.where(seg["active"].values[k], t - seg["start"].values[k], 0)
    return seg["before"].values[k] + part


def report(directory, as_of=None, mode="nearest"):
    polls = read_polls(os.path.join(directory, "store_status.csv"))
    as_of = int(polls["at"].max()) if as_of is None else as_of
    polls = polls[polls["at"] <= as_of]
    wlo = as_of - US_WEEK + 1
    cut = polls[polls["at"] <= wlo].groupby("store_id")["at"].max().rename("cut")
    polls = polls.merge(cut, on="store_id", how="left")
    polls = polls[polls["cut"].isna() | (polls["at"] >= polls["cut"])]
    stores = pd.DataFrame({"store_id": np.sort(polls["store_id"].unique())})
    code = pd.Series(np.arange(len(stores)), index=stores["store_id"])
    iv = business(stores, read_hours(os.path.join(directory, "menu_hours.csv")),
                  read_zones(os.path.join(directory, "timezones.csv")), as_of)
    out = pd.DataFrame({"store_id": stores["store_id"]})
    seg = segments(polls, as_of, mode)
    seg["code"] = code[seg["store_id"]].values
    seg = seg.sort_values(["code", "start"], kind="stable")
    for name, w in WINDOWS.items():
        lo = np.maximum(iv["lo"].values, as_of - w + 1)
        hi = np.minimum(iv["hi"].values, as_of + 1)
        keep = lo < hi
        c = code[iv["store_id"].values[keep]].values
        bus = np.zeros(len(stores), dtype="int64")
        upt = np.zeros(len(stores), dtype="int64")
        np.add.at(bus, c, (hi - lo)[keep])
        np.add.at(upt, c, active_until(seg, c, hi[keep], wlo) - active_until(seg, c, lo[keep], wlo))
        unit = US_MIN if name == "hour" else US_HOUR
        for col, us in ((f"uptime_last_{name}", upt), (f"downtime_last_{name}", bus - upt)):
            h = (us * 100 + unit // 2) // unit  # half away from zero: nothing is negative
            out[col] = pd.Series(h // 100).astype(str) + "." + pd.Series(h % 100).astype(str).str.zfill(2)
    cols = ["store_id"] + [f"uptime_last_{w}" for w in WINDOWS] + [f"downtime_last_{w}" for w in WINDOWS]
    return out[cols]


if __name__ == "__main__":
    as_of = int(sys.argv[2]) if len(sys.argv) > 2 else None
    mode = sys.argv[3] if len(sys.argv) > 3 else "nearest"
    report(sys.argv[1], as_of, mode).to_csv(sys.stdout, index=False, lineterminator="\n")
