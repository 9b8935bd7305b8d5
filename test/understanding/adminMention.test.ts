import { findAdminMention } from '../../services/understanding/adminMention';

describe('findAdminMention', () => {
  it.each<[string, ReturnType<typeof findAdminMention>]>([
    ['list imports by Ann', { kind: 'named', name: 'Ann' }],
    ['imports by ann lee last week', { kind: 'named', name: 'ann lee' }],
    ['show imports done by Sam Boss since monday', { kind: 'named', name: 'Sam Boss' }],
    ['what did Priya import yesterday', { kind: 'named', name: 'Priya' }],
    ['imports from admin jo', { kind: 'named', name: 'jo' }],
    ['show my imports', { kind: 'self' }],
    ['my recent imports please', { kind: 'self' }],
    ['the imports I did last week', { kind: 'self' }],
    ['imports by me', { kind: 'self' }],
    ['list imports sorted by date', undefined],
    ['list imports in october', undefined],
    ['how did the last import go', undefined],
  ])('%s', (message, expected) => {
    expect(findAdminMention(message)).toEqual(expected);
  });
});
