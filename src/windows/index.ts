/**
 * Change windows and freezes: cron in IANA time zones, device selectors, open periods and
 * feasibility. Pure functions; time-zone data comes from the runtime's ICU, so they run in
 * activities and their results are recorded in workflow history.
 */
export { parseCron, cronMatchesDay, cronOccurrences, MAX_OCCURRENCES, type CronSpec } from './cron';
export { checkFeasible, isOpenFor, nextOpening, windowInstants, FEASIBILITY_HORIZON_MS } from './instants';
export { isEmptySelector, matchesSelector, type SelectableDevice } from './selector';
export { instantOfWall, isKnownTimeZone, offsetAt, wallOf, wallText } from './zone';
