// The side-by-side bench's connector for the reference server (@app-connect/core).
//
// It makes exactly the CRM requests bench/connector.py makes, against the same fake CRM
// (bench/fake_crm.py), so both servers do the same outside work per operation:
//   login: GET /me; GET /contact: GET /contacts?phone=; POST /callLog: POST /activities;
//   PATCH /callLog: GET /activities/{id} then PATCH /activities/{id};
//   POST /messageLog: POST /messages, then GET + PATCH /messages/{id} per further message.
// Outbound calls use axios (the reference's peer dependency, what its connectors use).
'use strict';

const axios = require('axios');

const CRM_URL = (process.env.BENCH_CRM_URL || 'http://127.0.0.1:7070').replace(/\/+$/, '');

function headers(authHeader) {
    return { Authorization: authHeader };
}

function line(message) {
    const m = message || {};
    return `[${m.creationTime || ''}] ${m.subject || ''}`;
}

module.exports = {
    getAuthType() {
        return 'apiKey';
    },

    getBasicAuth({ apiKey }) {
        return Buffer.from(`${apiKey}:`).toString('base64');
    },

    getLogFormatType() {
        return 'text/plain';
    },

    async getUserInfo({ authHeader }) {
        try {
            const { data } = await axios.get(`${CRM_URL}/me`, { headers: headers(authHeader) });
            return {
                successful: true,
                platformUserInfo: { id: data.id, name: data.name, timezoneName: 'UTC', timezoneOffset: 0 },
            };
        } catch (e) {
            return {
                successful: false,
                returnMessage: { message: 'Invalid API key', messageType: 'warning', ttl: 3000 },
            };
        }
    },

    async findContact({ authHeader, phoneNumber }) {
        const { data } = await axios.get(`${CRM_URL}/contacts`, {
            params: { phone: phoneNumber },
            headers: headers(authHeader),
        });
        return { successful: true, matchedContactInfo: data };
    },

    async createCallLog({ authHeader, contactInfo, callLog, composedLogDetails }) {
        const { data } = await axios.post(`${CRM_URL}/activities`, {
            contactId: contactInfo?.id,
            sessionId: callLog?.sessionId,
            subject: callLog?.customSubject || 'Call',
            body: composedLogDetails || '',
        }, { headers: headers(authHeader) });
        return { logId: data.id };
    },

    async getCallLog({ authHeader, callLogId }) {
        const { data } = await axios.get(`${CRM_URL}/activities/${callLogId}`, { headers: headers(authHeader) });
        return { callLogInfo: { subject: data.subject, fullBody: data.body, fullLogResponse: data } };
    },

    async updateCallLog({ authHeader, existingCallLog, composedLogDetails, subject }) {
        const changes = { body: composedLogDetails || '' };
        if (subject) {
            changes.subject = subject;
        }
        await axios.patch(`${CRM_URL}/activities/${existingCallLog.thirdPartyLogId}`, changes, {
            headers: headers(authHeader),
        });
        return { updatedNote: composedLogDetails || '' };
    },

    async createMessageLog({ authHeader, contactInfo, message }) {
        const { data } = await axios.post(`${CRM_URL}/messages`, {
            contactId: contactInfo?.id,
            lines: [line(message)],
        }, { headers: headers(authHeader) });
        return { logId: data.id };
    },

    async updateMessageLog({ authHeader, existingMessageLog, message }) {
        // Read the conversation record before appending, as connectors do that keep one note
        // per conversation-day (the Python bench connector does the same).
        const url = `${CRM_URL}/messages/${existingMessageLog.thirdPartyLogId}`;
        await axios.get(url, { headers: headers(authHeader) });
        await axios.patch(url, { lastLine: line(message) }, { headers: headers(authHeader) });
        return {};
    },
};
