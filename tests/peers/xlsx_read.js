// Reads an XLSX workbook with exceljs (the npm package) and prints its sheets and cell values as
// JSON: the integration tests check duijie's need-list export with a real spreadsheet reader.
//   node xlsx_read.js FILE
'use strict';
const ExcelJS = require('exceljs');

(async () => {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(process.argv[2]);
  const sheets = [];
  book.eachSheet((sheet) => {
    const rows = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      rows.push(row.values.slice(1).map((v) => (v && typeof v === 'object' && 'richText' in v ? v.richText.map((t) => t.text).join('') : v)));
    });
    sheets.push({ name: sheet.name, rows });
  });
  process.stdout.write(JSON.stringify({ sheets }));
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
