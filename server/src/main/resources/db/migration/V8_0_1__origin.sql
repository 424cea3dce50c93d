-- Which API created a run or a job: 'v1', or a seed façade's id ('000', '001', ...). A path two
-- façades share (GET /status/{id}) answers in the shape of the one that created the object.
ALTER TABLE runs ADD COLUMN origin VARCHAR(16) DEFAULT 'v1' NOT NULL;
ALTER TABLE jobs ADD COLUMN origin VARCHAR(16) DEFAULT 'v1' NOT NULL;
