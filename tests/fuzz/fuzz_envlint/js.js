const a = process.env.A + process.env["B"] + import.meta.env.C;
