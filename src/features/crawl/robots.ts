// robots.txt as RFC 9309 describes it: groups of user-agent lines followed by
// allow/disallow rules; the group naming our product token wins over `*`;
// within it the longest matching rule decides, and allow wins a tie.

/** What one host's robots.txt allows us to request. */
export interface RobotsRules {
  allows(pathAndQuery: string): boolean;
}

interface Rule {
  allow: boolean;
  pattern: string;
}

/** Everything allowed: no robots.txt, or one we could not read. */
export const ALLOW_ALL: RobotsRules = { allows: () => true };

/** Everything disallowed. */
export const DISALLOW_ALL: RobotsRules = { allows: (p) => p === '/robots.txt' };

// Bounds, so a hostile robots.txt costs little: RFC 9309 asks parsers to read at least 500 KiB.
const MAX_RULES = 10_000;
const MAX_PATTERN = 2_000;

// Non-ASCII characters and percent-escapes are compared in one form: UTF-8
// percent-encoded, with upper-case hex digits (RFC 9309, 2.2.2).
function normalize(path: string): string {
  return path
    .replace(/[^\x21-\x7e]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''))
    .replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
}

/**
 * Whether a robots.txt path pattern matches a path: `*` is any run of
 * characters, a final `$` anchors at the end, otherwise a prefix match.
 * Iterative with one backtrack point, so no pattern can make it exponential.
 */
export function patternMatches(pattern: string, path: string): boolean {
  const anchored = pattern.endsWith('$');
  const p = anchored ? pattern.slice(0, -1) : pattern;
  let i = 0; // in path
  let j = 0; // in pattern
  let star = -1;
  let mark = 0;
  while (i < path.length) {
    if (j === p.length && !anchored) return true;
    if (j < p.length && p[j] === '*') {
      star = j++;
      mark = i;
    } else if (j < p.length && p[j] === path[i]) {
      i++;
      j++;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === '*') j++;
  return j === p.length;
}

function rulesOf(rules: Rule[]): RobotsRules {
  if (rules.length === 0) return ALLOW_ALL;
  return {
    allows(pathAndQuery: string): boolean {
      const path = normalize(pathAndQuery || '/');
      if (path === '/robots.txt') return true;
      let best: Rule | undefined;
      for (const r of rules) {
        if (!patternMatches(r.pattern, path)) continue;
        if (!best || r.pattern.length > best.pattern.length || (r.pattern.length === best.pattern.length && r.allow && !best.allow)) best = r;
      }
      return best ? best.allow : true;
    },
  };
}

/**
 * Parses a robots.txt for a crawler whose product tokens are `agents`
 * (compared case-insensitively with each user-agent line's token). Every
 * group naming one of them is merged; without one, the `*` groups apply.
 */
export function parseRobots(text: string, agents: string[]): RobotsRules {
  const wanted = new Set(agents.map((a) => a.toLowerCase()));
  const mine: Rule[] = [];
  const star: Rule[] = [];
  let foundMine = false;
  // The group being read: which user agents it is for, and whether its rules started.
  let groupAgents: string[] = [];
  let inRules = false;
  let count = 0;

  for (const raw of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      if (inRules) {
        groupAgents = [];
        inRules = false;
      }
      // The product token is the leading run of letters, "_" and "-" ("Inkwell/1.0" names "inkwell").
      const token = /^[A-Za-z_*-]+/.exec(value)?.[0].toLowerCase() ?? '';
      groupAgents.push(token);
      if (wanted.has(token)) foundMine = true;
    } else if (key === 'allow' || key === 'disallow') {
      inRules = true;
      // An empty disallow means "nothing is disallowed": no rule at all.
      if (!value || groupAgents.length === 0 || count >= MAX_RULES) continue;
      const rule: Rule = { allow: key === 'allow', pattern: normalize(value.slice(0, MAX_PATTERN)) };
      count++;
      if (groupAgents.some((a) => wanted.has(a))) mine.push(rule);
      if (groupAgents.includes('*')) star.push(rule);
    }
    // sitemap, crawl-delay and other lines neither start nor end a group.
  }
  return rulesOf(foundMine ? mine : star);
}
