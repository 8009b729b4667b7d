// The local runtime's one team. E2B scopes sandboxes, events and webhooks to the team of the API
// key; here every key belongs to this team, so whatever reports a team (events, webhooks, the
// E2B_TEAM_ID inside sandboxes) reports this id, stable across restarts and machines.
export const LOCAL_TEAM_ID = '00000000-0000-0000-0000-000000000000';
