import { parseDeletionReply, parseReviewReply, type ReviewContext } from '../../dialogs/reviewReply';

const ctx: ReviewContext = {
  headers: ['Email', 'First Name', 'Last Name', 'Mobile', 'Business Phone', 'Role', 'Status'],
  columns: {
    email: 'Email',
    firstName: 'First Name',
    lastName: 'Last Name',
    workPhone: 'Mobile',
    status: 'Status',
  },
  planId: 'plan1',
  options: {},
};

describe('typed answers to a plan', () => {
  it.each([
    ['yes', { kind: 'confirm' }],
    ['Yes!', { kind: 'confirm' }],
    ['go ahead', { kind: 'confirm' }],
    ['  OK.  ', { kind: 'confirm' }],
    ['import it', { kind: 'confirm' }],
    ['cancel', { kind: 'cancel' }],
    ['No', { kind: 'cancel' }],
    ['never mind', { kind: 'cancel' }],
    ["don't import", { kind: 'cancel' }],
    ['help', { kind: 'help' }],
    ['?', { kind: 'help' }],
    ['what is the weather', { kind: 'unknown' }],
    ['', { kind: 'unknown' }],
  ])('"%s" means %j', (said, expected) => {
    expect(parseReviewReply(said, undefined, ctx)).toEqual(expected);
  });

  it.each([
    ['map Business Phone to work phone', { workPhone: 'Business Phone' }],
    ['Map "business phone" to Work Phone.', { workPhone: 'Business Phone' }],
    ['map work phone to Business Phone', { workPhone: 'Business Phone' }],
    ['use Role as title', { title: 'Role' }],
    ['map Role to the Title field', { title: 'Role' }],
    ['workPhone=Business Phone', { workPhone: 'Business Phone' }],
    ["don't import Mobile", { workPhone: null }],
    ['ignore column mobile', { workPhone: null }],
    ['unmap work phone', { workPhone: null }],
    ['title=', { title: null }],
  ])('"%s" changes the mapping to %j', (said, mapping) => {
    const reply = parseReviewReply(said, undefined, ctx);
    expect(reply).toMatchObject({ kind: 'change', options: { mapping } });
  });

  it.each([
    ['use New as default', 'new'],
    ['use activate as the default status', 'activate'],
    ['default status update', 'update'],
    ['set the default to Delete', 'delete'],
    ['default: new', 'new'],
    ['rows without status are New', 'new'],
  ])('"%s" sets the default status to %s', (said, action) => {
    expect(parseReviewReply(said, undefined, ctx)).toMatchObject({
      kind: 'change',
      options: { defaultAction: action },
    });
  });

  it.each([
    ['create them as New', true],
    ['create missing users', true],
    ['skip them', false],
    ['ignore missing', false],
  ])('"%s" sets creating missing users to %s', (said, create) => {
    expect(parseReviewReply(said, undefined, ctx)).toMatchObject({
      kind: 'change',
      options: { createMissingOnUpdate: create },
    });
  });

  it.each([
    ['map Fax to work phone', /no column "Fax".*"Business Phone"/],
    ['map Business Phone to shoe size', /which field "shoe size" is/],
    ['use Maybe as default', /"maybe" is not a User Status/],
    ["don't import email", /cannot be left out/],
  ])('"%s" is refused with a specific reason', (said, message) => {
    const reply = parseReviewReply(said, undefined, ctx);
    expect(reply.kind).toBe('invalid');
    expect(reply.kind === 'invalid' && reply.message).toMatch(message);
  });

  it('keeps earlier choices when adding a new one', () => {
    const reply = parseReviewReply('map Role to title', undefined, {
      ...ctx,
      options: { defaultAction: 'new', mapping: { workPhone: 'Business Phone' } },
    });
    expect(reply).toMatchObject({
      kind: 'change',
      options: { defaultAction: 'new', mapping: { workPhone: 'Business Phone', title: 'Role' } },
    });
  });
});

describe('card answers to a plan', () => {
  it('confirms when the card inputs match the plan on screen', () => {
    expect(parseReviewReply('', { action: 'confirm', planId: 'plan1', 'map.email': 'Email' }, ctx)).toEqual({
      kind: 'confirm',
    });
  });

  it('treats a confirm whose inputs differ from the plan as a change, never as a go-ahead', () => {
    const reply = parseReviewReply('', { action: 'confirm', planId: 'plan1', defaultStatus: 'new' }, ctx);
    expect(reply).toMatchObject({ kind: 'change', options: { defaultAction: 'new' } });
  });

  it('applies mapping choices, including "not imported"', () => {
    const reply = parseReviewReply(
      '',
      { action: 'apply', planId: 'plan1', 'map.title': 'Role', 'map.workPhone': '__none__' },
      ctx,
    );
    expect(reply).toMatchObject({ kind: 'change', options: { mapping: { title: 'Role', workPhone: null } } });
  });

  it('refuses a click on an older card', () => {
    expect(parseReviewReply('', { action: 'confirm', planId: 'older' }, ctx)).toEqual({ kind: 'stale' });
  });

  it('refuses a header the file does not have and leaving the email out', () => {
    expect(
      parseReviewReply('', { action: 'apply', planId: 'plan1', 'map.title': 'Nope' }, ctx),
    ).toMatchObject({
      kind: 'invalid',
    });
    expect(
      parseReviewReply('', { action: 'apply', planId: 'plan1', 'map.email': '__none__' }, ctx),
    ).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/cannot be left out/) });
  });

  it('ignores values that are not one of our submits', () => {
    expect(parseReviewReply('yes', { something: 'else' }, ctx)).toEqual({ kind: 'confirm' });
  });
});

describe('answers about rows run together on one line', () => {
  const runTogether: ReviewContext = { ...ctx, runTogether: true };

  it.each(['yes, reflow', 'Yes reflow!', 'reflow and import', 're-flow and import', "yes, that's right"])(
    '"%s" confirms the re-flow and imports',
    (said) => {
      expect(parseReviewReply(said, undefined, runTogether)).toEqual({
        kind: 'confirm',
        options: { reflow: true },
      });
    },
  );

  it.each(['split into rows', "That's right.", 'reflow', 'the rows look right'])(
    '"%s" confirms the re-flow and shows the plan again',
    (said) => {
      expect(parseReviewReply(said, undefined, runTogether)).toEqual({
        kind: 'change',
        options: { reflow: true },
        said: 'The rows will be imported re-flowed as shown.',
      });
    },
  );

  it('keeps the other choices when confirming the re-flow', () => {
    const reply = parseReviewReply('yes, reflow', undefined, {
      ...runTogether,
      options: { defaultAction: 'new' },
    });
    expect(reply).toEqual({ kind: 'confirm', options: { defaultAction: 'new', reflow: true } });
  });

  it('says there is nothing to re-flow in a file with one row per line', () => {
    expect(parseReviewReply('split into rows', undefined, ctx)).toEqual({
      kind: 'invalid',
      message: 'This file has one row per line: there is nothing to re-flow.',
    });
  });

  it('takes "Re-flow and import" on the card as a go-ahead with the re-flow', () => {
    expect(
      parseReviewReply(
        '',
        { action: 'confirm', planId: 'plan1', reflow: 'true', 'map.email': 'Email' },
        runTogether,
      ),
    ).toEqual({ kind: 'confirm', options: { reflow: true } });
  });

  it('still treats other changed card inputs beside the re-flow as a change', () => {
    const reply = parseReviewReply(
      '',
      { action: 'confirm', planId: 'plan1', reflow: 'true', defaultStatus: 'new' },
      runTogether,
    );
    expect(reply).toMatchObject({ kind: 'change', options: { defaultAction: 'new', reflow: true } });
  });
});

describe('the deletion confirmation', () => {
  it.each([
    ['delete', 'confirm'],
    ['Delete 40 users', 'confirm'],
    ['yes delete', 'confirm'],
    ['delete them', 'confirm'],
    ['yes', 'unsure'],
    ['cancel', 'cancel'],
    ["don't delete anyone", 'cancel'],
    ['help', 'help'],
    ['what?', 'unknown'],
  ])('"%s" means %s', (said, meaning) => {
    expect(parseDeletionReply(said, undefined)).toBe(meaning);
  });

  it('takes the card buttons', () => {
    expect(parseDeletionReply('', { action: 'confirmDeletions' })).toBe('confirm');
    expect(parseDeletionReply('', { action: 'cancel' })).toBe('cancel');
  });
});
