import { expect } from "chai";
import fc from "fast-check";
import { Float64Column, Int32Column, Uint8Column } from "../../src/sim/column.ts";
import { ModelAssertionError } from "../../src/sim/assert.ts";

describe("Typed columns", () => {
  it("behave as a number array under push, set and truncate, growing past their capacity", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const floats = new Float64Column();
        const bytes = new Uint8Column();
        const model: number[] = [];
        for (const each of ops) {
          if (each.kind === "push") {
            floats.push(each.value + 0.5);
            bytes.push(each.value);
            model.push(each.value);
          } else if (model.length > 0 && each.kind === "set") {
            floats.set(each.at % model.length, each.value + 0.5);
            bytes.set(each.at % model.length, each.value);
            model[each.at % model.length] = each.value;
          } else if (each.kind === "truncate") {
            const length = each.at % (model.length + 1);
            floats.truncate(length);
            bytes.truncate(length);
            model.length = length;
          }
        }
        expect(floats.length).to.equal(model.length);
        expect(bytes.length).to.equal(model.length);
        model.forEach((value, index) => {
          expect(floats.at(index)).to.equal(value + 0.5);
          expect(bytes.at(index)).to.equal(value);
        });
      }),
    );
  });

  it("asserts on a set or truncate outside the column", () => {
    const column = new Float64Column();
    column.push(1);
    expect(() => column.set(1, 2)).to.throw(ModelAssertionError);
    expect(() => column.truncate(2)).to.throw(ModelAssertionError);
  });
  it("Int32Column: push, set and a sparse put behave as an array whose gaps hold the fill value", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), value: fc.integer({ min: -5, max: 1_000_000 }) }),
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: -5, max: 1_000_000 }) }),
      fc.record({ kind: fc.constant("put" as const), at: fc.nat({ max: 300 }), value: fc.integer({ min: -5, max: 1_000_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const column = new Int32Column();
        const model: number[] = [];
        for (const each of ops) {
          if (each.kind === "push") {
            column.push(each.value);
            model.push(each.value);
          } else if (each.kind === "set" && model.length > 0) {
            column.set(each.at % model.length, each.value);
            model[each.at % model.length] = each.value;
          } else if (each.kind === "put") {
            column.put(each.at, each.value, -1);
            while (model.length < each.at) model.push(-1);
            model[each.at] = each.value;
          }
        }
        expect(column.length).to.equal(model.length);
        for (let i = 0; i < model.length; i++) expect(column.at(i)).to.equal(model[i]);
        expect(column.get(model.length, -7)).to.equal(-7);
        if (model.length > 0) expect(column.get(model.length - 1, -7)).to.equal(model[model.length - 1]);
      }),
    );
  });
});
