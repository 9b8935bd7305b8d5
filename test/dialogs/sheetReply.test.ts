import { parseReviewReply, type ReviewContext } from '../../dialogs/reviewReply';

/** The plan on screen read the "Users" sheet of a workbook with three sheets, with a column fixed by hand. */
const workbookCtx: ReviewContext = {
  headers: ['Email', 'Name', 'Mobile'],
  columns: { email: 'Email', firstName: 'Name', workPhone: 'Mobile' },
  planId: 'plan1',
  options: { defaultAction: 'new', mapping: { workPhone: 'Mobile' } },
  sheet: 'Users',
  sheets: ['Users', 'Staff', '2024 Hires'],
};

const textCtx: ReviewContext = {
  headers: ['Email', 'Name'],
  columns: { email: 'Email', firstName: 'Name' },
  planId: 'plan1',
  options: {},
};

describe('choosing another sheet of a workbook', () => {
  it.each([
    ['use sheet Staff', 'Staff'],
    ['Use the Staff sheet.', 'Staff'],
    ['read the staff sheet', 'Staff'],
    ['switch to sheet "Staff"', 'Staff'],
    ['sheet staff', 'Staff'],
    ['open the worksheet named Staff', 'Staff'],
    ['read from sheet 2024 hires instead', '2024 Hires'],
    ['the 2024 Hires sheet', '2024 Hires'],
    ['import the Staff tab', 'Staff'],
  ])('"%s" re-plans with the sheet %s, keeping other choices but not the columns', (said, sheet) => {
    expect(parseReviewReply(said, undefined, workbookCtx)).toEqual({
      kind: 'change',
      options: { defaultAction: 'new', sheet },
      said: `I read the sheet "${sheet}" now; the column choices start over.`,
    });
  });

  it('says which sheets there are when the name matches none', () => {
    expect(parseReviewReply('use sheet Contractors', undefined, workbookCtx)).toEqual({
      kind: 'invalid',
      message: 'This workbook has no sheet "Contractors". Its sheets are "Users", "Staff", "2024 Hires".',
    });
  });

  it('says when the sheet is the one read already, and when the file has no sheets', () => {
    expect(parseReviewReply('use sheet users', undefined, workbookCtx)).toEqual({
      kind: 'invalid',
      message: 'I am reading the sheet "Users" already.',
    });
    expect(parseReviewReply('use sheet Staff', undefined, textCtx)).toEqual({
      kind: 'invalid',
      message: 'This file is a text file, not an Excel workbook: it has no sheets.',
    });
  });

  it('leaves column answers alone: "use" without the word sheet is still a mapping', () => {
    expect(parseReviewReply('use Mobile as work phone', undefined, workbookCtx)).toMatchObject({
      kind: 'change',
      options: { mapping: { workPhone: 'Mobile' } },
    });
  });

  it('takes the sheet chosen on the card as a change, never as a confirmation', () => {
    expect(
      parseReviewReply(undefined, { action: 'confirm', planId: 'plan1', sheet: 'Staff' }, workbookCtx),
    ).toEqual({
      kind: 'change',
      options: { defaultAction: 'new', sheet: 'Staff' },
      said: 'I applied your choices.',
    });
    // The card shows the sheet read; sending it back unchanged confirms.
    expect(
      parseReviewReply(undefined, { action: 'confirm', planId: 'plan1', sheet: 'Users' }, workbookCtx),
    ).toEqual({ kind: 'confirm' });
    expect(
      parseReviewReply(undefined, { action: 'apply', planId: 'plan1', sheet: 'Nope' }, workbookCtx),
    ).toEqual({ kind: 'invalid', message: 'This workbook has no sheet "Nope".' });
  });
});
